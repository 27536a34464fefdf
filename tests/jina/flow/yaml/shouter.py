from jina import Executor, requests


class Shouter(Executor):
    def __init__(self, suffix: str = "", **kwargs):
        super().__init__(**kwargs)
        self.suffix = suffix

    @requests
    def shout(self, docs, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "").upper() + self.suffix
