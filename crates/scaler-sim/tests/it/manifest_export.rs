//! `import hpa|keda|kpa`, manifests in scenarios, `export`, and `sweep`'s recommended files.
