//! The one integration-test binary of scaler-model.

mod progress;
mod resample;
mod sim;
mod warmup;
