//! The one integration-test binary of scaler-formats.

mod csv;
mod escape;
mod output_set;
mod scenario;
mod seeds;
