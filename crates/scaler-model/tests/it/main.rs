//! The one integration-test binary of scaler-model.

mod sim;
mod progress;
