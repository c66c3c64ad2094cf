//! Time series (Prometheus, CloudWatch, CSV) into rate traces and observations.
