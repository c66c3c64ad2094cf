//! Output sets: staged, committed together, rolled forward after an interrupted commit,
//! and earlier runs' leftovers cleaned.

use std::fs;
use std::path::Path;

use scaler_formats::output_set::OutputDir;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn nothing_changes_until_commit_and_an_abandoned_set_leaves_no_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a.csv"), "old a").unwrap();
    fs::write(dir.join("b.csv"), "old b").unwrap();
    {
        let out = OutputDir::open(&dir).unwrap();
        let mut set = out.stage(&["a.csv", "b.csv"]).unwrap();
        set.write("a.csv", b"new a").unwrap();
        // Written but not committed: the folder still holds the old set.
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        // Dropped without commit (a failure later in the command).
    }
    assert_eq!(names(&dir), ["a.csv", "b.csv"]);
    assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
    assert_eq!(fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
}

#[test]
fn a_commit_replaces_the_set_and_removes_its_stale_members() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a.csv"), "old a").unwrap();
    fs::write(dir.join("stale.csv"), "from an earlier run").unwrap();
    fs::write(dir.join("mine.txt"), "the user's").unwrap();
    let out = OutputDir::open(&dir).unwrap();
    let mut set = out.stage(&["a.csv", "stale.csv"]).unwrap();
    set.write("a.csv", b"new a").unwrap();
    let files = set.commit().unwrap();
    assert_eq!(files, [dir.join("a.csv")]);
    // The user's own file stays; the set's member not written this time is gone.
    assert_eq!(names(&dir), ["a.csv", "mine.txt"]);
    assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
}

#[test]
fn a_folder_the_command_created_is_removed_when_nothing_was_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new");
    {
        let out = OutputDir::open(&dir).unwrap();
        let mut set = out.stage(&["a.csv"]).unwrap();
        set.write("a.csv", b"x").unwrap();
    }
    assert!(!dir.exists());
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_written_through_and_stays_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    let real = tmp.path().join("real.csv");
    fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink(&real, dir.join("a.csv")).unwrap();
    let out = OutputDir::open(&dir).unwrap();
    let mut set = out.stage(&["a.csv"]).unwrap();
    set.write("a.csv", b"new").unwrap();
    set.commit().unwrap();
    assert!(fs::symlink_metadata(dir.join("a.csv")).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&real).unwrap(), "new");
}

#[test]
fn a_destination_that_cannot_be_replaced_fails_before_the_commit_point() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a.csv"), "old a").unwrap();
    fs::create_dir(dir.join("b.csv")).unwrap();
    let out = OutputDir::open(&dir).unwrap();
    let mut set = out.stage(&["a.csv", "b.csv"]).unwrap();
    set.write("a.csv", b"new a").unwrap();
    set.write("b.csv", b"new b").unwrap();
    let err = set.commit().unwrap_err().to_string();
    assert!(err.contains("b.csv") && err.contains("is a directory"), "{err}");
    assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a", "the old set is untouched");
    assert_eq!(names(&dir), ["a.csv", "b.csv"], "no staging folder is left");
}

#[test]
fn a_commit_killed_at_any_step_ends_as_the_whole_new_set_once_the_folder_is_opened_again() {
    // Three files put and one stale file removed: kills after 0..=4 steps.
    for steps in 0..=4 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        for n in ["a.csv", "b.csv", "c.csv", "gone.csv"] {
            fs::write(dir.join(n), format!("old {n}")).unwrap();
        }
        {
            let out = OutputDir::open(&dir).unwrap();
            let mut set = out.stage(&["a.csv", "b.csv", "c.csv", "gone.csv"]).unwrap();
            for n in ["a.csv", "b.csv", "c.csv"] {
                set.write(n, format!("new {n}").as_bytes()).unwrap();
            }
            set.commit_interrupted(steps).unwrap();
        }
        let out = OutputDir::open(&dir).unwrap();
        assert_eq!(out.recovery().rolled_forward, 1, "kill after {steps} steps");
        assert!(out.recovery().notice(&dir).unwrap().contains("completed 1 interrupted commit"));
        assert_eq!(names(&dir), ["a.csv", "b.csv", "c.csv"], "kill after {steps} steps");
        for n in ["a.csv", "b.csv", "c.csv"] {
            assert_eq!(fs::read_to_string(dir.join(n)).unwrap(), format!("new {n}"), "kill after {steps} steps");
        }
    }
}

#[test]
fn leftovers_of_killed_runs_are_removed_and_a_live_writers_temporary_file_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    fs::create_dir(&dir).unwrap();
    // A staging folder without a journal: killed before its commit.
    fs::create_dir(dir.join(".scaler-staging-999999999-abc")).unwrap();
    fs::write(dir.join(".scaler-staging-999999999-abc").join("timeline.csv"), vec![b'x'; 1000]).unwrap();
    // A single-file write's temporary file from a process that is gone, and one of ours (alive).
    fs::write(dir.join(".scaler-partial-999999999-xyz"), "dead").unwrap();
    let mine = format!(".scaler-partial-{}-live", std::process::id());
    fs::write(dir.join(&mine), "alive").unwrap();
    // An earlier version's temporary output.
    fs::write(dir.join(".timeline.csv.partial-Ab12Cd"), "old version").unwrap();
    fs::write(dir.join("keep.csv"), "user").unwrap();
    let out = OutputDir::open(&dir).unwrap();
    assert_eq!(out.recovery().removed, 3);
    let left = names(&dir);
    assert_eq!(left, [mine, "keep.csv".to_string()]);
}

#[test]
fn two_commands_never_write_one_folder_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let first = OutputDir::open(tmp.path()).unwrap();
    let err = OutputDir::open(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("another scaler-sim command is writing into this folder"), "{err}");
    drop(first);
    OutputDir::open(tmp.path()).unwrap();
}
