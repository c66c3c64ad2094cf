#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scaler_sim::fuzzing::observations_csv(data);
});
