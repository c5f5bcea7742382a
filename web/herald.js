// Herald browser client library: not built yet.
