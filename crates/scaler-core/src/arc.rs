//! actions-runner-controller's runner scale set arithmetic, exactly as upstream decides: the
//! listener's desired runners and the EphemeralRunnerSet's reconciliation. Pure functions
//! over explicit state; the `arc` policy and `scaler-sim conformance arc` both call them.
