//! The one integration-test binary of scaler-formats.

mod csv;
mod escape;
mod scenario;
