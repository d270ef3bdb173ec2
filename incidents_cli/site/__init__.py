"""The public status site: the public view, the page model, the API, rendering, writing."""
