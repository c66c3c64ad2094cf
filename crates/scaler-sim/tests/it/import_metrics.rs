//! `import prometheus`, `import cloudwatch`, `import csv`.

use std::path::{Path, PathBuf};

use crate::run_in;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/metrics")
}

/// A fresh folder with every fixture copied in.
fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
    }
    d
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn meta(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&read(dir, &format!("{name}.meta.json"))).unwrap()
}

/// Runs an import that must succeed and returns its standard output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let mut a = vec!["import"];
    a.extend_from_slice(args);
    let out = run_in(dir, &a);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs an import into `out.csv` that must be refused with all of `expected` in its message,
/// and checks that nothing was written.
fn refused(dir: &Path, args: &[&str], expected: &[&str]) -> String {
    let mut a = vec!["import"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "out.csv"]);
    let out = run_in(dir, &a);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: {err:?} lacks {e:?}");
    }
    assert!(!dir.join("out.csv").exists(), "an output was written");
    assert!(!dir.join("out.csv.meta.json").exists(), "a meta file was written");
    err
}

const API_RATES: &str = "timestamp_s,arrivals\n0,120\n60,120\n120,60\n180,0\n240,60\n300,120\n360,180\n";

#[test]
fn import_prometheus_sums_selected_series_over_pages_with_gaps_and_nan() {
    let d = dir();
    let p = d.path();
    let text = ok(p, &["prometheus", "prom_rate_p1.json", "prom_rate_p2.json", "--select", "job=api", "-o", "r.csv"]);
    // (1.5 + 0.5) * 60, (1.25 + 0.75) * 60, (NaN + 1) * 60, a gap, (1/3 + 2/3) * 60 ...
    assert_eq!(read(p, "r.csv"), API_RATES);
    assert!(text.contains("left out 1: NaN samples"), "{text}");
    assert!(text.contains("1 missing timestamp(s) in 1 gap(s) written as 0 arrivals"), "{text}");
    assert!(text.contains("Prometheus warning: PromQL info"), "{text}");
    let m = meta(p, "r.csv");
    assert_eq!(m["origin_unix_ms"], 1_709_294_400_000i64);
    assert_eq!(m["origin"], "2024-03-01T12:00:00Z");
    assert_eq!(m["wrote"], "rate trace");
    assert_eq!(m["read"], 16);
    assert_eq!(m["written"], 7);
    assert_eq!(m["left_out"]["samples given twice (the boundary of two files), kept once"], 2);
    assert_eq!(m["left_out"]["samples of series not selected by --select"], 2);
}

#[test]
fn import_prometheus_same_input_twice_is_byte_identical_and_stdout_matches() {
    let d = dir();
    let p = d.path();
    ok(p, &["prometheus", "prom_rate_p1.json", "prom_rate_p2.json", "-o", "a.csv"]);
    // The files in the other order give the same sums.
    ok(p, &["prometheus", "prom_rate_p2.json", "prom_rate_p1.json", "-o", "b.csv"]);
    let stdout = ok(p, &["prometheus", "prom_rate_p1.json", "prom_rate_p2.json", "-o", "-"]);
    assert_eq!(read(p, "a.csv"), read(p, "b.csv"));
    assert_eq!(read(p, "a.csv"), stdout);
    // All series: the batch job adds 10/s * 60 s in the first two bins.
    assert!(read(p, "a.csv").starts_with("timestamp_s,arrivals\n0,720\n60,720\n120,60\n"), "{}", read(p, "a.csv"));
}

#[test]
fn import_prometheus_carries_fractions_and_rounds_the_total_once() {
    let d = dir();
    let p = d.path();
    let mut values = String::new();
    for i in 0..10 {
        if i > 0 {
            values.push(',');
        }
        values.push_str(&format!("[{},\"0.35\"]", 1_709_294_400 + i));
    }
    write(p, "c.json", &format!("{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{{\"metric\":{{}},\"values\":[{values}]}}]}}}}"));
    let text = ok(p, &["prometheus", "c.json", "--counts", "-o", "c.csv"]);
    // 0.35 a bin: running sums 0.35, 0.7, 1.05, ... 3.5; whole parts emitted, the last rounded half up.
    assert_eq!(read(p, "c.csv"), "timestamp_s,arrivals\n0,0\n1,0\n2,1\n3,0\n4,0\n5,1\n6,0\n7,0\n8,1\n9,1\n");
    let csv = read(p, "c.csv");
    let total: u64 = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(total, 4);
    assert!(text.contains("the exact total 3.5 was rounded to 4"), "{text}");
}

#[test]
fn import_prometheus_values_before_metric_and_number_values_are_read() {
    let d = dir();
    let p = d.path();
    write(
        p,
        "v.json",
        r#"{"data":{"result":[{"values":[[1709294400.5,2],[1709294401.5,"1.5"]],"metric":{"job":"x"}}],"resultType":"matrix"},"status":"success"}"#,
    );
    ok(p, &["prometheus", "v.json", "-o", "v.csv"]);
    assert_eq!(read(p, "v.csv"), "timestamp_s,arrivals\n0,2\n1,2\n");
    assert_eq!(meta(p, "v.csv")["origin_unix_ms"], 1_709_294_400_500i64);
}

#[test]
fn import_prometheus_refuses_error_responses_and_instant_queries() {
    let d = dir();
    let p = d.path();
    refused(
        p,
        &["prometheus", "prom_error.json"],
        &["prom_error.json: the response is an error (bad_data): invalid parameter \"query\": 1:14: parse error"],
    );
    refused(
        p,
        &["prometheus", "prom_vector.json"],
        &["prom_vector.json: at data.resultType: \"vector\"", "query_range"],
    );
    write(p, "nostatus.json", r#"{"data":{"resultType":"matrix","result":[]}}"#);
    refused(p, &["prometheus", "nostatus.json"], &["nostatus.json: has no \"status\""]);
}

#[test]
fn import_prometheus_refuses_bad_samples_with_their_path() {
    let d = dir();
    let p = d.path();
    refused(
        p,
        &["prometheus", "prom_inf.json"],
        &["prom_inf.json: at data.result[1].values[1]: value \"+Inf\" is infinite"],
    );
    // An unselected series' +Inf is not read.
    ok(p, &["prometheus", "prom_inf.json", "--select", "job=api", "-o", "ok.csv"]);
    write(
        p,
        "neg.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"-0.5"]]}]}}"#,
    );
    refused(p, &["prometheus", "neg.json"], &["neg.json: at data.result[0].values[1]: value \"-0.5\" is negative"]);
    refused(
        p,
        &["prometheus", "prom_offgrid.json"],
        &["prom_offgrid.json: at data.result[1].values[1]: timestamp 1709294490.5 (2024-03-01T12:01:30.5Z) is off the grid", "60 s"],
    );
    write(
        p,
        "order.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[10,"1"],[30,"1"],[20,"1"]]}]}}"#,
    );
    refused(
        p,
        &["prometheus", "order.json"],
        &["order.json: at data.result[0].values[2]: timestamp 20", "increasing time order"],
    );
    write(
        p,
        "str.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["10","1"]]}]}}"#,
    );
    refused(p, &["prometheus", "str.json"], &["str.json:1:"]);
}

#[test]
fn import_prometheus_refuses_broken_json_at_line_and_column() {
    let d = dir();
    let p = d.path();
    refused(p, &["prometheus", "prom_truncated.json"], &["prom_truncated.json:3:", "the file ends too early"]);
    write(p, "comma.json", "{\"status\":\"success\",\n \"data\": {\"resultType\":\"matrix\",,}}");
    refused(p, &["prometheus", "comma.json"], &["comma.json:2:"]);
}

#[test]
fn import_prometheus_overlapping_files_with_other_values_are_refused() {
    let d = dir();
    let p = d.path();
    let p2 = read(p, "prom_rate_p2.json").replacen("0.3333333333333333", "0.4", 1);
    write(p, "p2b.json", &p2);
    refused(
        p,
        &["prometheus", "prom_rate_p1.json", "p2b.json"],
        &["p2b.json: at data.result[0].values[0]: series {__name__=\"job:http_requests:rate5m\", instance=\"10.0.0.1:8080\", job=\"api\"} has a sample at 1709294640", "0.4 here, 0.333333333 there"],
    );
    // A file repeated is an overlap, not a boundary.
    refused(
        p,
        &["prometheus", "prom_rate_p2.json", "prom_rate_p2.json"],
        &["overlaps its samples in prom_rate_p2.json"],
    );
}

#[test]
fn import_prometheus_a_huge_gap_is_refused_not_written() {
    let d = dir();
    let p = d.path();
    // 1 s steps, then a sample 30 years later: 10^9 rows of zeros would be written.
    write(
        p,
        "gap.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0,"1"],[1,"1"],[1000000000,"1"]]}]}}"#,
    );
    let out = crate::run_limited(
        p,
        &["import", "prometheus", "gap.json", "-o", "out.csv"],
        512,
        std::time::Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gap.json: at data.result[0].values[2]: 1000000001 rows of 1 s"), "{err}");
    assert!(!p.join("out.csv").exists());
}

#[test]
fn import_prometheus_empty_result_is_refused() {
    let d = dir();
    let p = d.path();
    write(p, "e.json", r#"{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":[]}"#);
    refused(p, &["prometheus", "e.json"], &["e.json: nothing to import: the result has no series"]);
    refused(
        p,
        &["prometheus", "prom_rate_p1.json", "--select", "job=nope"],
        &["--select matches none of the 3 series"],
    );
}

#[test]
fn import_prometheus_observations_align_columns() {
    let d = dir();
    let p = d.path();
    let text = ok(
        p,
        &[
            "prometheus",
            "--as",
            "observations",
            "--column",
            "current_workers=prom_workers.json",
            "--column",
            "worker_utilization=prom_util.json",
            "--column",
            "pending_tasks=prom_pending.json",
            "prom_workers.json",
            "prom_util.json",
            "prom_pending.json",
            "-o",
            "obs.csv",
        ],
    );
    assert_eq!(
        read(p, "obs.csv"),
        "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n\
         0,4,4,0,0,0.52\n30,4,10,0,0,0.91\n90,6,3,0,0,0.88\n"
    );
    assert!(text.contains("left out 1: timestamps where the worker_utilization series has no sample"), "{text}");
    assert!(text.contains("left out 1: timestamps where the pending_tasks series has no sample"), "{text}");
    assert!(text.contains("not given, written as 0: running_tasks, avg_task_duration_s"), "{text}");
    assert_eq!(meta(p, "obs.csv")["wrote"], "observations");
    // The observations replay.
    write(p, "c.toml", "[scaler]\nmin_workers = 1\nmax_workers = 10\nevaluation_interval = 30\nmetrics_window = 60\n");
    let r = run_in(p, &["replay", "--config", "c.toml", "--observations", "obs.csv", "--out", "dec.csv"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(read(p, "dec.csv").lines().count(), 4, "{}", read(p, "dec.csv"));
}

#[test]
fn import_prometheus_observations_refuse_percentages_fractions_and_missing_columns() {
    let d = dir();
    let p = d.path();
    refused(
        p,
        &[
            "prometheus",
            "--as",
            "observations",
            "--column",
            "current_workers=prom_workers.json",
            "--column",
            "worker_utilization=prom_util_percent.json",
            "prom_workers.json",
            "prom_util_percent.json",
        ],
        &[
            "prom_util_percent.json: at data.result[0].values[0]: worker_utilization at 1709294400",
            "is 52: this looks like a percentage; divide by 100",
        ],
    );
    write(p, "frac.json", &read(p, "prom_workers.json").replacen("\"6\"", "\"6.5\"", 1));
    refused(
        p,
        &[
            "prometheus",
            "--as",
            "observations",
            "--column",
            "current_workers=frac.json",
            "--column",
            "worker_utilization=prom_util.json",
            "frac.json",
            "prom_util.json",
        ],
        &["frac.json: at data.result[0].values[3]: current_workers at 1709294490", "is 6.5: a count must be whole"],
    );
    refused(
        p,
        &["prometheus", "--as", "observations", "--column", "current_workers=prom_workers.json", "prom_workers.json"],
        &["--column: --as observations needs --column worker_utilization=FILE"],
    );
    refused(
        p,
        &["prometheus", "--as", "observations", "--column", "workers=prom_workers.json", "prom_workers.json"],
        &["unknown observations column \"workers\""],
    );
    refused(
        p,
        &[
            "prometheus",
            "--as",
            "observations",
            "--column",
            "current_workers=prom_workers.json",
            "--column",
            "worker_utilization=prom_util.json",
            "prom_workers.json",
        ],
        &["prom_util.json is not one of the INPUT files"],
    );
}

#[test]
fn import_prometheus_rate_trace_runs_in_the_simulator() {
    let d = dir();
    let p = d.path();
    ok(p, &["prometheus", "prom_rate_p1.json", "prom_rate_p2.json", "-o", "trace.csv"]);
    write(
        p,
        "s.toml",
        "[trace]\npath = \"trace.csv\"\nformat = \"rates\"\nspread = \"poisson\"\nduration = { dist = \"exponential\", mean_s = 5 }\nseed = 1\n\
         [cluster]\nprovision_delay_s = 30\n[scaler]\nmin_workers = 1\nmax_workers = 20\nevaluation_interval = 15\n",
    );
    let r = run_in(p, &["run", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: serde_json::Value = serde_json::from_str(&read(&p.join("o"), "summary.json")).unwrap();
    let total: u64 =
        read(p, "trace.csv").lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(total, 1860);
    assert!(summary.to_string().contains(&total.to_string()), "{summary}");
}

#[test]
fn import_cloudwatch_concatenates_pages_sorts_and_counts() {
    let d = dir();
    let p = d.path();
    let text = ok(p, &["cloudwatch", "cw_page1.json", "cw_page2.json", "--select", "Id=m1", "--counts", "-o", "r.csv"]);
    // Newest first in each page, the older page second: sorted; 601.5 carried.
    assert_eq!(read(p, "r.csv"), "timestamp_s,arrivals\n0,575\n300,601\n600,587\n900,598\n1200,613\n");
    assert!(text.contains("left out 1: data points of results not selected by --select"), "{text}");
    assert!(text.contains("the exact total 2973.5 was rounded to 2974"), "{text}");
    assert_eq!(meta(p, "r.csv")["origin"], "2024-03-01T12:00:00Z");
    // By label, the same.
    ok(
        p,
        &["cloudwatch", "cw_page2.json", "cw_page1.json", "--select", "Label=RequestCount", "--counts", "-o", "l.csv"],
    );
    assert_eq!(read(p, "l.csv"), read(p, "r.csv"));
}

#[test]
fn import_cloudwatch_partial_data_needs_the_other_pages_or_accept_partial() {
    let d = dir();
    let p = d.path();
    refused(
        p,
        &["cloudwatch", "cw_page1.json", "--select", "Id=m1"],
        &["cw_page1.json: at MetricDataResults[0].StatusCode: result \"m1\" is PartialData", "--accept-partial"],
    );
    let text =
        ok(p, &["cloudwatch", "cw_page1.json", "--select", "Id=m1", "--counts", "--accept-partial", "-o", "a.csv"]);
    assert_eq!(read(p, "a.csv"), "timestamp_s,arrivals\n0,587\n300,598\n600,612\n");
    assert!(text.contains("PartialData (accepted with --accept-partial)"), "{text}");
    refused(
        p,
        &["cloudwatch", "cw_forbidden.json"],
        &[
            "cw_forbidden.json: at MetricDataResults[0].StatusCode: result \"m1\" is Forbidden",
            "User is not authorized",
        ],
    );
    refused(
        p,
        &["cloudwatch", "cw_page2.json", "--select", "job=api"],
        &["a CloudWatch result is chosen by Id or Label"],
    );
}

#[test]
fn import_cloudwatch_epoch_numbers_nulls_and_rates() {
    let d = dir();
    let p = d.path();
    let text = ok(p, &["cloudwatch", "cw_raw.json", "-o", "r.csv"]);
    // 0.1/s and 0.05/s over 60 s; the null is left out (and the grid starts after it).
    assert_eq!(read(p, "r.csv"), "timestamp_s,arrivals\n0,6\n60,3\n");
    assert!(text.contains("left out 1: null values"), "{text}");
    assert_eq!(meta(p, "r.csv")["origin_unix_ms"], 1_709_294_460_000i64);
    write(
        p,
        "bad.json",
        r#"{"MetricDataResults":[{"Id":"a","Timestamps":["yesterday"],"Values":[1],"StatusCode":"Complete"}]}"#,
    );
    refused(
        p,
        &["cloudwatch", "bad.json"],
        &["bad.json: at MetricDataResults[0].Timestamps[0]: \"yesterday\": a timestamp must be ISO 8601"],
    );
    write(
        p,
        "len.json",
        r#"{"MetricDataResults":[{"Id":"a","Timestamps":[1,2],"Values":[1],"StatusCode":"Complete"}]}"#,
    );
    refused(p, &["cloudwatch", "len.json"], &["len.json: at MetricDataResults[0]: has 2 Timestamps but 1 Values"]);
    write(
        p,
        "neg.json",
        r#"{"MetricDataResults":[{"Id":"a","Timestamps":[1,2],"Values":[1,-3],"StatusCode":"Complete"}]}"#,
    );
    refused(p, &["cloudwatch", "neg.json"], &["neg.json: at MetricDataResults[0].Values[1]: value -3 is negative"]);
}

#[test]
fn import_cloudwatch_observations() {
    let d = dir();
    let p = d.path();
    let base = ["cloudwatch", "--as", "observations", "--column", "current_workers=cw_workers.json"];
    let mut args = base.to_vec();
    args.extend_from_slice(&[
        "--column",
        "worker_utilization=cw_util.json",
        "cw_workers.json",
        "cw_util.json",
        "-o",
        "o.csv",
    ]);
    ok(p, &args);
    assert_eq!(
        read(p, "o.csv"),
        "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n\
         0,4,0,0,0,0.5825\n60,4,0,0,0,0.64\n120,5,0,0,0,0.715\n"
    );
    let mut args = base.to_vec();
    args.extend_from_slice(&["--column", "worker_utilization=cw_cpu.json", "cw_workers.json", "cw_cpu.json"]);
    refused(
        p,
        &args,
        &[
            "cw_cpu.json: at MetricDataResults[0].Values[2]: worker_utilization at 1709294400",
            "58.25: this looks like a percentage",
        ],
    );
}

#[test]
fn import_csv_rates_sorts_sums_and_reads_offsets() {
    let d = dir();
    let p = d.path();
    let text = ok(
        p,
        &["csv", "csv_rates.csv", "--time-column", "time", "--value-column", "requests", "--counts", "-o", "r.csv"],
    );
    // 11:00Z: 12 (api) + 8 (web); 11:01: empty; 12:02+01:00 = 11:02Z: 30; 11:03: NaN.
    assert_eq!(read(p, "r.csv"), "timestamp_s,arrivals\n0,20\n60,0\n120,30\n180,0\n");
    assert!(text.contains("left out 1: rows with an empty value"), "{text}");
    assert!(text.contains("left out 1: rows with a NaN value"), "{text}");
    assert!(text.contains("times read as ISO 8601"), "{text}");
    assert_eq!(meta(p, "r.csv")["origin"], "2024-03-01T11:00:00Z");
    // Per-second rates (the default): times the 60 s step.
    ok(p, &["csv", "csv_rates.csv", "--time-column", "time", "--value-column", "requests", "-o", "s.csv"]);
    assert_eq!(read(p, "s.csv"), "timestamp_s,arrivals\n0,1200\n60,0\n120,1800\n180,0\n");
}

#[test]
fn import_csv_tasks_in_a_fixed_zone() {
    let d = dir();
    let p = d.path();
    let text = ok(
        p,
        &[
            "csv",
            "csv_tasks.csv",
            "--as",
            "tasks",
            "--time-column",
            "submitted",
            "--column",
            "duration_s=runtime_s",
            "--time-zone",
            "+01:00",
            "-o",
            "t.csv",
        ],
    );
    assert_eq!(read(p, "t.csv"), "arrival_s,duration_s\n0,3\n5,12.5\n60.25,0.75\n");
    assert!(text.contains("left out 1: rows with an empty duration"), "{text}");
    assert!(text.contains("sorted by arrival"), "{text}");
    assert_eq!(meta(p, "t.csv")["origin"], "2024-03-01T08:00:00Z");
    // A named zone (from the system's time zone database): Paris is +01:00 in March, as above.
    if Path::new("/usr/share/zoneinfo/Europe/Paris").exists() && std::env::var_os("TZDIR").is_none() {
        let args = ["csv", "csv_tasks.csv", "--as", "tasks", "--time-column", "submitted"];
        let mut a = args.to_vec();
        a.extend(["--column", "duration_s=runtime_s", "--time-zone", "Europe/Paris", "-o", "paris.csv"]);
        ok(p, &a);
        assert_eq!(meta(p, "paris.csv")["origin"], "2024-03-01T08:00:00Z");
        assert_eq!(read(p, "paris.csv"), read(p, "t.csv"));
    } else {
        crate::skip_notice("import csv --time-zone Europe/Paris", "/usr/share/zoneinfo/Europe/Paris (tzdata)");
    }
    refused(
        p,
        &[
            "csv",
            "csv_tasks.csv",
            "--as",
            "tasks",
            "--time-column",
            "submitted",
            "--column",
            "duration_s=runtime_s",
            "--time-zone",
            "Mars/Olympus",
        ],
        &["--time-zone: \"Mars/Olympus\": no such time zone"],
    );
    // The task trace runs.
    write(
        p,
        "s.toml",
        "[trace]\npath = \"t.csv\"\nseed = 1\n[cluster]\nprovision_delay_s = 30\n[scaler]\nmin_workers = 1\nmax_workers = 5\n",
    );
    let r = run_in(p, &["run", "s.toml", "--out", "o"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn import_csv_observations_epoch_ms() {
    let d = dir();
    let p = d.path();
    ok(
        p,
        &[
            "csv",
            "csv_obs.csv",
            "--as",
            "observations",
            "--time-column",
            "ts_ms",
            "--time-format",
            "epoch-ms",
            "--column",
            "current_workers=nodes",
            "--column",
            "pending_tasks=queue",
            "--column",
            "running_tasks=busy",
            "--column",
            "worker_utilization=util",
            "-o",
            "o.csv",
        ],
    );
    assert_eq!(
        read(p, "o.csv"),
        "timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n\
         0,4,3,4,0,0.5\n30,4,10,4,0,1\n90,6,2,3,0,0.5\n"
    );
    assert_eq!(meta(p, "o.csv")["left_out"]["rows with an empty value"], 1);
}

#[test]
fn import_csv_refuses_bad_fields_with_line_and_column() {
    let d = dir();
    let p = d.path();
    write(p, "b.csv", "t,v\n1709294400,1\n1709294460,2.5x\n");
    refused(
        p,
        &["csv", "b.csv", "--time-column", "t", "--value-column", "v"],
        &["b.csv:3: column 2 (v): \"2.5x\" is not a decimal number"],
    );
    write(p, "t.csv", "t,v\n1709294400,1\nnoon,2\n");
    refused(
        p,
        &["csv", "t.csv", "--time-column", "t", "--value-column", "v", "--time-format", "epoch"],
        &["t.csv:3: column 1 (t): \"noon\" is not a number of seconds since the epoch"],
    );
    refused(
        p,
        &["csv", "b.csv", "--time-column", "time", "--value-column", "v"],
        &["b.csv:1: has no column \"time\" (--time-column); the header has: t, v"],
    );
    refused(p, &["csv", "b.csv", "--value-column", "v"], &["--time-column: import csv needs --time-column"]);
    write(p, "far.csv", "t,v\n-9000000000000000,1\n9000000000000000,1\n");
    refused(
        p,
        &["csv", "far.csv", "--time-column", "t", "--value-column", "v"],
        &["far.csv:2: column 1 (t): \"-9000000000000000\" is beyond the year 9999"],
    );
    write(p, "o.csv.in", "t,w,u\n1,2,0.5\n1,3,0.5\n");
    refused(
        p,
        &[
            "csv",
            "o.csv.in",
            "--as",
            "observations",
            "--time-column",
            "t",
            "--column",
            "current_workers=w",
            "--column",
            "worker_utilization=u",
        ],
        &["o.csv.in:3: column 1 (t): time 1 (1970-01-01T00:00:01Z)", "is given twice (also on line 2)"],
    );
}

#[test]
fn import_prometheus_single_timestamp_needs_step_and_gets_a_closing_row() {
    let d = dir();
    let p = d.path();
    // "status" after "data", as a proxy might reorder keys.
    write(
        p,
        "one.json",
        r#"{"data":{"resultType":"matrix","result":[{"metric":{},"values":[[1709294400,"0.5"]]}]},"status":"success"}"#,
    );
    refused(p, &["prometheus", "one.json"], &["one.json: at data.result[0].values[0]: the only timestamp (1709294400 (2024-03-01T12:00:00Z)) does not fix the step: give --step-s"]);
    let text = ok(p, &["prometheus", "one.json", "--step-s", "60", "-o", "one.csv"]);
    assert_eq!(read(p, "one.csv"), "timestamp_s,arrivals\n0,30\n60,0\n");
    assert!(text.contains("a 0-arrival row was added"), "{text}");
    refused(p, &["prometheus", "one.json", "--step-s", "0"], &["--step-s: \"0\" must be a positive number of seconds"]);
}

#[test]
fn import_cloudwatch_duplicates_across_pages() {
    let d = dir();
    let p = d.path();
    // The first page again, Complete this time: every point is given twice with one value.
    write(p, "again.json", &read(p, "cw_page1.json").replace("PartialData", "Complete"));
    let text = ok(p, &["cloudwatch", "cw_page1.json", "again.json", "--select", "Id=m1", "--counts", "-o", "r.csv"]);
    assert_eq!(read(p, "r.csv"), "timestamp_s,arrivals\n0,587\n300,598\n600,612\n");
    assert!(text.contains("left out 3: data points given twice with the same value, kept once"), "{text}");
    write(p, "other.json", &read(p, "again.json").replace("598.0", "599.0"));
    refused(
        p,
        &["cloudwatch", "cw_page1.json", "other.json", "--select", "Id=m1", "--counts"],
        &[
            "at MetricDataResults[0].Values[1]: result \"m1\" has two data points at 1709295300",
            "with different values",
        ],
    );
    write(p, "relabel.json", &read(p, "cw_page2.json").replace("\"RequestCount\"", "\"Requests\""));
    refused(
        p,
        &["cloudwatch", "cw_page1.json", "relabel.json"],
        &["relabel.json: at MetricDataResults[0].Label: result \"m1\" is labelled \"Requests\" here"],
    );
}

#[test]
fn import_csv_reads_a_bom_and_quoted_fields_and_several_files() {
    let d = dir();
    let p = d.path();
    write(p, "a.csv", "\u{feff}\"Time\",\"Requests, per s\"\n\"1709294400\",\"1.5\"\n1709294460,\"0.5\"\n");
    write(p, "b.csv", "Time,\"Requests, per s\"\n1709294520,0.25\n");
    ok(p, &["csv", "a.csv", "b.csv", "--time-column", "Time", "--value-column", "Requests, per s", "-o", "r.csv"]);
    // 1.5/s * 60 = 90, 0.5/s * 60 = 30, 0.25/s * 60 = 15.
    assert_eq!(read(p, "r.csv"), "timestamp_s,arrivals\n0,90\n60,30\n120,15\n");
    assert_eq!(meta(p, "r.csv")["read"], 3);
}

#[test]
fn the_tuning_guides_prometheus_export_imports_to_the_shipped_trace() {
    // docs/tuning.md's worked example: the shipped export imports to the shipped trace, byte
    // for byte, and the shipped meta file is the one the import writes (so its sha256 holds).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let d = dir();
    let p = d.path();
    std::fs::create_dir(p.join("traces")).unwrap();
    std::fs::copy(
        root.join("traces/prometheus_web_requests_1d.json"),
        p.join("traces/prometheus_web_requests_1d.json"),
    )
    .unwrap();
    let out =
        ok(p, &["prometheus", "traces/prometheus_web_requests_1d.json", "-o", "traces/web_requests_1d_rates.csv"]);
    assert!(out.contains("origin (time 0): 2024-03-04T00:00:00Z"), "{out}");
    for f in ["traces/web_requests_1d_rates.csv", "traces/web_requests_1d_rates.csv.meta.json"] {
        assert_eq!(read(p, f), std::fs::read_to_string(root.join(f)).unwrap(), "{f} differs from the shipped one");
    }
}
