"""The namespaces of the embedded `Allotment` API, one module per noun."""
