"""HTTP routers, one module per resource. Each route is short: it calls the core and lets
the exception handlers turn package errors into HTTP answers."""
