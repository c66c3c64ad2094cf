//! Kubernetes manifests as written (YAML): HorizontalPodAutoscaler, KEDA ScaledObject,
//! Knative's `config-autoscaler` ConfigMap and revision annotations, read into the
//! `[scaler]` configuration they describe.
