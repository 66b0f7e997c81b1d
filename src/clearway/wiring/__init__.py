"""The one place that picks real adapters: settings, engine, store, pipeline, handlers."""
