"""Deploying a Flow on container engines: Docker Compose (and Swarm) files and Kubernetes objects."""
