//! `conformance keda` on the shared vectors and on small hand-written vectors of our own.
