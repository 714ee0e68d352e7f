"""The service's routes, one module per area; :func:`luodi.serve.app.create_app` includes them."""
