//! `scaler_core::arc`: hand-computed listener, configuration and reconcile cases; the grouped
//! runner set against a plain one-runner-per-entry model; and no panic on any input (the
//! test binary is built with overflow checks in debug).

use proptest::prelude::*;
use scaler_core::arc::{
    ArcConfig, ArcConfigError, EphemeralRunnerSet, ListenerState, PatchKind, ReconcileAction, Runner, RunnerGroup,
    RunnerPhase, RunnerSetSpec, DEFAULT_MAX_RUNNERS, MAX_PATCH_SEQ,
};

use PatchKind::{Forced, Initial, Sequenced};
use RunnerPhase::{Failed, Outdated, Pending, Running, Succeeded};

/// A runner: phase, patch id, registered, has a job.
fn r(phase: RunnerPhase, patch_id: u32, registered: bool, has_job: bool) -> Runner {
    Runner { phase, patch_id, registered, has_job }
}

fn g(count: u64, runner: Runner) -> RunnerGroup {
    RunnerGroup { count, runner }
}

fn set_of(spec: (u64, u32), groups: &[RunnerGroup]) -> EphemeralRunnerSet {
    let mut s = EphemeralRunnerSet::new();
    for x in groups {
        s.push(x.count, x.runner);
    }
    s.patch(RunnerSetSpec { replicas: spec.0, patch_id: spec.1 });
    s
}

#[test]
fn listener_calls_hand_computed() {
    // (minRunners, maxRunners, calls as (dirty_before, assigned jobs), then per call
    // (patch id, replicas, patch_seq, kind, capped)).
    type Call = (bool, u64);
    type Want = (u32, u64, u32, PatchKind, bool);
    let cases: &[(i64, i64, &[Call], &[Want])] = &[
        // minRunners 0: the first call's id is 0 (sequence 0); a quiet call at 0 == previous
        // == min forces; a dirty one, or one away from min, takes the sequence number.
        (
            0,
            i64::from(i32::MAX),
            &[(false, 0), (false, 0), (true, 2), (false, 2), (false, 0), (false, 0)],
            &[
                (0, 0, 0, Initial, false),
                (0, 0, 1, Forced, false),
                (2, 2, 2, Sequenced, false),
                (3, 2, 3, Sequenced, false),
                (4, 0, 4, Sequenced, false),
                (0, 0, 5, Forced, false),
            ],
        ),
        // minRunners 3 on top of the jobs, capped at 5; a dirty call at min is not forced.
        (
            3,
            5,
            &[(false, 4), (true, 1), (false, 0), (true, 0), (false, 0), (false, 9)],
            &[
                (0, 5, 0, Initial, true),
                (1, 4, 1, Sequenced, false),
                (2, 3, 2, Sequenced, false),
                (3, 3, 3, Sequenced, false),
                (0, 3, 4, Forced, false),
                (5, 5, 5, Sequenced, true),
            ],
        ),
        // minRunners == maxRunners: every quiet call after the first forces.
        (
            2,
            2,
            &[(false, 7), (false, 7), (true, 0)],
            &[(0, 2, 0, Initial, true), (0, 2, 1, Forced, true), (2, 2, 2, Sequenced, false)],
        ),
    ];
    for (min, max, calls, want) in cases {
        let config = ArcConfig::new(*min, *max).unwrap();
        let mut l = ListenerState::new();
        for (n, ((dirty, jobs), w)) in calls.iter().zip(want.iter()).enumerate() {
            if *dirty {
                l.job_event();
            }
            let d = l.desired_runners(&config, *jobs);
            let got = (d.spec.patch_id, d.spec.replicas, l.patch_seq.unwrap(), d.kind, d.capped);
            assert_eq!(got, *w, "min {min} max {max}, call {n}");
            assert_eq!(d.was_dirty, *dirty);
            assert_eq!(l.target_runners, Some(d.spec.replicas));
            assert!(!l.dirty);
        }
    }
}

#[test]
fn the_patch_sequence_wraps_after_max_int32_to_1() {
    let config = ArcConfig::default();
    let mut l = ListenerState { target_runners: Some(3), patch_seq: Some(MAX_PATCH_SEQ - 1), dirty: false };
    assert_eq!(l.desired_runners(&config, 3).spec.patch_id, MAX_PATCH_SEQ);
    let d = l.desired_runners(&config, 3);
    assert_eq!((d.spec.patch_id, d.kind, l.patch_seq), (1, Sequenced, Some(1)));
    // Out of range (a hand-edited state): wraps the same way instead of overflowing.
    let mut l = ListenerState { target_runners: None, patch_seq: Some(u32::MAX), dirty: true };
    assert_eq!(l.desired_runners(&config, 0).spec.patch_id, 1);
}

#[test]
fn sizes_saturate() {
    let config = ArcConfig::new(i64::MAX, i64::MAX).unwrap();
    let d = ListenerState::new().desired_runners(&config, u64::MAX);
    assert_eq!((d.spec.replicas, d.capped), (i64::MAX as u64, true));
}

#[test]
fn config_bounds_and_errors() {
    assert_eq!(ArcConfig::default(), ArcConfig::from_spec(None, None).unwrap());
    let c = ArcConfig::from_spec(None, None).unwrap();
    assert_eq!((c.min_runners(), c.max_runners()), (0, DEFAULT_MAX_RUNNERS));
    assert_eq!(DEFAULT_MAX_RUNNERS, 2_147_483_647);
    let c = ArcConfig::from_spec(Some(4), None).unwrap();
    assert_eq!((c.min_runners(), c.max_runners()), (4, DEFAULT_MAX_RUNNERS));
    let c = ArcConfig::from_spec(None, Some(0)).unwrap();
    assert_eq!((c.min_runners(), c.max_runners()), (0, 0));
    let c = ArcConfig::new(3, 3).unwrap();
    assert_eq!((c.min_runners(), c.max_runners()), (3, 3));
    let cases: &[(i64, i64, &str, &str)] = &[
        (
            5,
            2,
            "minRunners",
            "minRunners = 5: must not be greater than maxRunners = 2 \
             (MinRunners \"5\" cannot be greater than MaxRunners \"2\")",
        ),
        (-1, 3, "minRunners", "minRunners = -1: must be >= 0 (the AutoscalingRunnerSet's minimum)"),
        (0, -2, "maxRunners", "maxRunners = -2: must be >= 0 (the AutoscalingRunnerSet's minimum)"),
        (
            i64::MIN,
            -1,
            "minRunners",
            "minRunners = -9223372036854775808: must be >= 0 (the AutoscalingRunnerSet's minimum)",
        ),
    ];
    for (min, max, field, text) in cases {
        let e = ArcConfig::new(*min, *max).unwrap_err();
        assert_eq!((e.field(), e.to_string().as_str()), (*field, *text));
    }
    assert_eq!(
        ArcConfig::from_spec(Some(7), Some(6)).unwrap_err(),
        ArcConfigError::MinAboveMax { min_runners: 7, max_runners: 6 }
    );
    assert!(ArcConfig::from_spec(Some(i64::from(i32::MAX) + 1), None).is_err());
}

/// A runner registered, idle.
fn idle(phase: RunnerPhase, patch_id: u32) -> Runner {
    r(phase, patch_id, true, false)
}

#[test]
fn reconcile_hand_computed() {
    struct Case {
        what: &'static str,
        spec: (u64, u32),
        before: Vec<RunnerGroup>,
        action: ReconcileAction,
        cleaned: u64,
        after: Vec<RunnerGroup>,
    }
    let busy = r(Running, 1, true, true);
    let unregistered = r(Pending, 1, false, false);
    let mixed =
        vec![g(1, idle(Running, 1)), g(1, idle(Pending, 1)), g(1, unregistered), g(1, busy), g(1, idle(Pending, 1))];
    let cases = vec![
        Case {
            what: "a new set: create the replicas with the spec's patch id",
            spec: (3, 1),
            before: vec![],
            action: ReconcileAction::ScaleUp { created: 3 },
            cleaned: 0,
            after: vec![g(3, Runner::created(1))],
        },
        Case {
            what: "patch 0: delete 4 of 5; only 3 are idle and registered, pending first",
            spec: (1, 0),
            before: mixed.clone(),
            action: ReconcileAction::ScaleDown { wanted: 4, deleted: 3 },
            cleaned: 0,
            after: vec![g(1, unregistered), g(1, busy)],
        },
        Case {
            what: "patch 0: delete 1: the oldest idle pending runner, not the older running one",
            spec: (4, 0),
            before: mixed.clone(),
            action: ReconcileAction::ScaleDown { wanted: 1, deleted: 1 },
            cleaned: 0,
            after: vec![g(1, idle(Running, 1)), g(1, unregistered), g(1, busy), g(1, idle(Pending, 1))],
        },
        Case {
            what: "patch 0: delete 3: both idle pending, then the idle running one",
            spec: (2, 0),
            before: mixed.clone(),
            action: ReconcileAction::ScaleDown { wanted: 3, deleted: 3 },
            cleaned: 0,
            after: vec![g(1, unregistered), g(1, busy)],
        },
        Case {
            what: "a new patch id above 0 never scales down, but cleans finished runners",
            spec: (1, 2),
            before: vec![g(2, idle(Running, 1)), g(1, r(Succeeded, 1, true, true))],
            action: ReconcileAction::ScaleDownIgnored { excess: 1 },
            cleaned: 1,
            after: vec![g(2, idle(Running, 1))],
        },
        Case {
            what: "the same patch id does nothing at all, not even the clean-up",
            spec: (0, 3),
            before: vec![g(1, r(Succeeded, 3, true, true)), g(2, idle(Running, 2))],
            action: ReconcileAction::SamePatch,
            cleaned: 0,
            after: vec![g(1, r(Succeeded, 3, true, true)), g(2, idle(Running, 2))],
        },
        Case {
            what: "an older patch id than the newest runner's is acted on",
            spec: (4, 2),
            before: vec![g(1, idle(Running, 3)), g(1, r(Succeeded, 2, true, true))],
            action: ReconcileAction::ScaleUp { created: 3 },
            cleaned: 1,
            after: vec![g(1, idle(Running, 3)), g(3, Runner::created(2))],
        },
        Case {
            what: "failed runners count; succeeded and outdated ones do not",
            spec: (3, 5),
            before: vec![g(1, idle(Failed, 4)), g(1, idle(Outdated, 4)), g(1, idle(Succeeded, 4)), g(1, busy)],
            action: ReconcileAction::ScaleUp { created: 1 },
            cleaned: 1,
            after: vec![g(1, idle(Failed, 4)), g(1, idle(Outdated, 4)), g(1, busy), g(1, Runner::created(5))],
        },
        Case {
            what: "patch 0 never deletes failed or outdated runners",
            spec: (0, 0),
            before: vec![g(2, idle(Failed, 1)), g(1, idle(Outdated, 1))],
            action: ReconcileAction::ScaleDown { wanted: 2, deleted: 0 },
            cleaned: 0,
            after: vec![g(2, idle(Failed, 1)), g(1, idle(Outdated, 1))],
        },
        Case {
            what: "as many as the replicas: steady, finished ones cleaned",
            spec: (2, 0),
            before: vec![g(2, idle(Running, 1)), g(2, idle(Succeeded, 1))],
            action: ReconcileAction::Steady,
            cleaned: 2,
            after: vec![g(2, idle(Running, 1))],
        },
    ];
    for c in cases {
        let mut s = set_of(c.spec, &c.before);
        let latest = s.latest_patch_id();
        let total = s.counts().scale_total();
        let got = s.reconcile();
        assert_eq!(
            (got.action, got.cleaned, got.latest_patch_id, got.scale_total),
            (c.action, c.cleaned, latest, total),
            "{}",
            c.what
        );
        assert_eq!(s.groups(), c.after.as_slice(), "{}", c.what);
    }
}

#[test]
fn settle_reaches_a_fixpoint() {
    // Patch 0 on an empty set: create 5 (id 0), then steady: two passes.
    let mut s = set_of((5, 0), &[]);
    let st = s.settle();
    assert_eq!(
        (st.first.action, st.passes, st.created, st.deleted, st.cleaned),
        (ReconcileAction::ScaleUp { created: 5 }, 2, 5, 0, 0)
    );
    assert_eq!(s.latest_patch_id(), 0);
    // Runners carry the patch id: the next reconcile of patch 1 sees it and does nothing.
    s.patch(RunnerSetSpec { replicas: 2, patch_id: 1 });
    let st = s.settle();
    assert_eq!((st.first.action, st.passes, s.len()), (ReconcileAction::ScaleDownIgnored { excess: 3 }, 1, 5));
    // arc-ers-06-like: succeeded + pending, a scale-down to 0 with patch 2 keeps the pending one.
    let mut s = set_of((2, 1), &[]);
    s.settle();
    s.update(0..1, |x| x.phase = Succeeded).unwrap();
    assert_eq!(s.settle().first.action, ReconcileAction::SamePatch);
    s.patch(RunnerSetSpec { replicas: 0, patch_id: 2 });
    let st = s.settle();
    assert_eq!((st.first.action, st.cleaned, st.passes), (ReconcileAction::ScaleDownIgnored { excess: 1 }, 1, 2));
    assert_eq!(s.groups(), &[g(1, Runner::created(1))]);
    // The pending runner finishes; patch 2 is still not the newest id (1), so it is cleaned.
    s.update(0..1, |x| x.phase = Succeeded).unwrap();
    s.settle();
    assert!(s.is_empty());
    // A saturated creation: the set never holds more than u64::MAX runners.
    let mut s = set_of((u64::MAX, 0), &[g(u64::MAX - 1, idle(Succeeded, 0))]);
    let st = s.settle();
    assert_eq!((st.passes, s.len(), s.counts().pending), (3, u64::MAX, u64::MAX));
}

#[test]
fn runner_updates_split_and_merge_groups() {
    let mut s = set_of((0, 0), &[g(5, Runner::created(1))]);
    s.update(1..3, |x| x.registered = true).unwrap();
    assert_eq!(s.groups(), &[g(1, Runner::created(1)), g(2, r(Pending, 1, true, false)), g(2, Runner::created(1))]);
    s.update(0..1, |x| x.registered = true).unwrap();
    s.update(3..5, |x| x.registered = true).unwrap();
    assert_eq!(s.groups(), &[g(5, r(Pending, 1, true, false))]);
    // The 2 oldest pending runners start; then 10 more are asked for: 3 change.
    assert_eq!(s.update_first(2, |x| x.phase == Pending, |x| x.phase = Running), 2);
    assert_eq!(s.update_first(10, |x| x.phase == Pending, |x| x.has_job = true), 3);
    assert_eq!(s.groups(), &[g(2, idle(Running, 1)), g(3, r(Pending, 1, true, true))]);
    s.remove(1..4).unwrap();
    assert_eq!(s.groups(), &[g(1, idle(Running, 1)), g(1, r(Pending, 1, true, true))]);
    s.remove(0..0).unwrap();
    s.update(2..2, |x| x.phase = Failed).unwrap();
    assert_eq!(s.len(), 2);
    let e = s.update(1..3, |_| {}).unwrap_err();
    assert_eq!(e.to_string(), "runners 1..3: out of range (the set holds 2)");
    #[allow(clippy::reversed_empty_ranges)]
    let e = s.remove(2..1).unwrap_err();
    assert_eq!((e.start, e.end, e.len), (2, 1, 2));
    assert_eq!(s.push(0, idle(Running, 9)), 0);
    assert_eq!(s.groups().len(), 2);
}

#[test]
fn state_round_trips_through_serde() {
    let mut l = ListenerState::new();
    l.desired_runners(&ArcConfig::default(), 4);
    l.job_event();
    let back: ListenerState = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
    assert_eq!(back, l);
    let s = set_of((3, 7), &[g(2, idle(Running, 7)), g(1, r(Succeeded, 6, true, true))]);
    let back: EphemeralRunnerSet = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

// ---- The grouped set against one entry per runner ----

/// Upstream's reconcile over a plain list of runners, written from the README's pseudo-code.
fn model_reconcile(spec: RunnerSetSpec, runners: &mut Vec<Runner>) {
    let latest = runners.iter().map(|x| x.patch_id).max().unwrap_or(0);
    let total = runners.iter().filter(|x| matches!(x.phase, Pending | Running | Failed)).count() as u64;
    if spec.patch_id != 0 && spec.patch_id == latest {
        return;
    }
    if total < spec.replicas {
        for _ in 0..spec.replicas - total {
            runners.push(Runner::created(spec.patch_id));
        }
    } else if spec.patch_id == 0 && total > spec.replicas {
        let mut left = total - spec.replicas;
        for phase in [Pending, Running] {
            let mut i = 0;
            while i < runners.len() {
                if left > 0 && runners[i].phase == phase && runners[i].registered && !runners[i].has_job {
                    runners.remove(i);
                    left -= 1;
                } else {
                    i += 1;
                }
            }
        }
    }
    runners.retain(|x| x.phase != Succeeded);
}

fn model_settle(spec: RunnerSetSpec, runners: &mut Vec<Runner>) {
    loop {
        let before = runners.clone();
        model_reconcile(spec, runners);
        if *runners == before {
            return;
        }
    }
}

fn expand(s: &EphemeralRunnerSet) -> Vec<Runner> {
    s.groups().iter().flat_map(|x| std::iter::repeat_n(x.runner, x.count as usize)).collect()
}

fn phase() -> impl Strategy<Value = RunnerPhase> {
    prop_oneof![Just(Pending), Just(Running), Just(Succeeded), Just(Failed), Just(Outdated)]
}

fn small_runner() -> impl Strategy<Value = Runner> {
    // Weighted towards what scaling acts on: pending and running runners, registered, idle.
    let phase = prop_oneof![3 => Just(Pending), 3 => Just(Running), 1 => Just(Succeeded), 1 => Just(Failed), 1 => Just(Outdated)];
    (phase, 0u32..4, prop::bool::weighted(0.75), prop::bool::weighted(0.25))
        .prop_map(|(p, id, reg, job)| r(p, id, reg, job))
}

/// A patch id, 0 (force the state) often.
fn small_id() -> impl Strategy<Value = u32> {
    prop_oneof![2 => Just(0u32), 3 => 1u32..4]
}

#[derive(Clone, Debug)]
enum Op {
    Patch(u64, u32),
    Push(u64, Runner),
    Update(u64, u64, Runner),
    UpdateFirst(u64, RunnerPhase, Runner),
    Remove(u64, u64),
    Settle,
    Reconcile,
}

fn small_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..8, small_id()).prop_map(|(n, id)| Op::Patch(n, id)),
        (0u64..4, small_runner()).prop_map(|(n, x)| Op::Push(n, x)),
        (0u64..10, 0u64..10, small_runner()).prop_map(|(a, b, x)| Op::Update(a, b, x)),
        (0u64..5, phase(), small_runner()).prop_map(|(n, p, x)| Op::UpdateFirst(n, p, x)),
        (0u64..10, 0u64..10).prop_map(|(a, b)| Op::Remove(a, b)),
        Just(Op::Settle),
        Just(Op::Reconcile),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn grouped_set_matches_one_entry_per_runner(ops in prop::collection::vec(small_op(), 0..40)) {
        let mut s = EphemeralRunnerSet::new();
        let mut m: Vec<Runner> = Vec::new();
        for op in ops {
            match op {
                Op::Patch(replicas, patch_id) => s.patch(RunnerSetSpec { replicas, patch_id }),
                Op::Push(n, x) => {
                    s.push(n, x);
                    m.extend(std::iter::repeat_n(x, n as usize));
                }
                Op::Update(a, b, x) => {
                    let ok = s.update(a..b, |y| *y = x).is_ok();
                    prop_assert_eq!(ok, a <= b && b <= m.len() as u64);
                    if ok {
                        m[a as usize..b as usize].fill(x);
                    }
                }
                Op::UpdateFirst(n, p, x) => {
                    let changed = s.update_first(n, |y| y.phase == p, |y| *y = x);
                    let idx: Vec<usize> = (0..m.len()).filter(|&i| m[i].phase == p).take(n as usize).collect();
                    prop_assert_eq!(changed, idx.len() as u64);
                    for i in idx {
                        m[i] = x;
                    }
                }
                Op::Remove(a, b) => {
                    if s.remove(a..b).is_ok() {
                        m.drain(a as usize..b as usize);
                    }
                }
                Op::Settle => {
                    s.settle();
                    model_settle(s.spec, &mut m);
                    prop_assert!(!s.reconcile().changed(), "settled is a fixpoint");
                }
                Op::Reconcile => {
                    s.reconcile();
                    model_reconcile(s.spec, &mut m);
                }
            }
            prop_assert_eq!(expand(&s), m.clone());
            prop_assert_eq!(s.len(), m.len() as u64);
            // Normalized: no empty group, no two identical neighbours.
            prop_assert!(s.groups().iter().all(|x| x.count > 0));
            prop_assert!(s.groups().windows(2).all(|w| w[0].runner != w[1].runner));
        }
    }
}

// ---- No panic on any input ----

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        Just(0i64),
        Just(1i64),
        Just(i64::from(i32::MAX)),
        any::<i64>()
    ]
}

fn big() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1u64), Just(u64::MAX), Just(u64::MAX - 1), Just(DEFAULT_MAX_RUNNERS), any::<u64>()]
}

fn id() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1u32), Just(MAX_PATCH_SEQ), Just(u32::MAX), any::<u32>()]
}

fn any_runner() -> impl Strategy<Value = Runner> {
    (phase(), id(), any::<bool>(), any::<bool>()).prop_map(|(p, i, reg, job)| r(p, i, reg, job))
}

#[derive(Clone, Debug)]
enum AnyOp {
    Job,
    Call(u64),
    Push(u64, Runner),
    Update(u64, u64, Runner),
    UpdateFirst(u64, RunnerPhase, Runner),
    Remove(u64, u64),
    Patch(u64, u32),
}

fn any_op() -> impl Strategy<Value = AnyOp> {
    prop_oneof![
        Just(AnyOp::Job),
        big().prop_map(AnyOp::Call),
        (big(), any_runner()).prop_map(|(n, x)| AnyOp::Push(n, x)),
        (big(), big(), any_runner()).prop_map(|(a, b, x)| AnyOp::Update(a, b, x)),
        (big(), phase(), any_runner()).prop_map(|(n, p, x)| AnyOp::UpdateFirst(n, p, x)),
        (big(), big()).prop_map(|(a, b)| AnyOp::Remove(a, b)),
        (big(), id()).prop_map(|(n, i)| AnyOp::Patch(n, i)),
    ]
}

proptest! {
    #[test]
    fn no_input_panics(
        min in int(),
        max in int(),
        seq in prop::option::of(id()),
        target in prop::option::of(big()),
        ops in prop::collection::vec(any_op(), 0..30),
    ) {
        let _ = ArcConfig::from_spec(Some(min), None);
        let _ = ArcConfig::from_spec(None, Some(max));
        let config = ArcConfig::new(min, max).unwrap_or_default();
        let mut l = ListenerState { target_runners: target, patch_seq: seq, dirty: false };
        let mut s = EphemeralRunnerSet::new();
        for op in ops {
            match op {
                AnyOp::Job => l.job_event(),
                AnyOp::Call(jobs) => {
                    let d = l.desired_runners(&config, jobs);
                    prop_assert!(d.spec.replicas <= config.max_runners());
                    prop_assert!(d.spec.patch_id <= MAX_PATCH_SEQ);
                    s.patch(d.spec);
                    let st = s.settle();
                    prop_assert!(st.passes <= 3);
                    prop_assert!(!s.reconcile().changed());
                }
                AnyOp::Push(n, x) => { s.push(n, x); }
                AnyOp::Update(a, b, x) => { let _ = s.update(a..b, |y| *y = x); }
                AnyOp::UpdateFirst(n, p, x) => { s.update_first(n, |y| y.phase == p, |y| *y = x); }
                AnyOp::Remove(a, b) => { let _ = s.remove(a..b); }
                AnyOp::Patch(n, i) => {
                    s.patch(RunnerSetSpec { replicas: n, patch_id: i });
                    s.settle();
                }
            }
            let c = s.counts();
            prop_assert_eq!(c.len(), s.len());
            prop_assert!(s.groups().len() <= 64, "groups stay few: {}", s.groups().len());
        }
    }
}
