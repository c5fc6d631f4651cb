"""HTTP routers, one module per resource. Each route is short: it calls the focused service
it declares (``pipeline.service.deps``) and lets the exception handlers turn package errors
into HTTP answers."""
