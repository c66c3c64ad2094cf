//! The one integration-test binary of scaler-model.

mod progress;
mod sim;
mod warmup;
