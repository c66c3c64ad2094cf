//! Charts, as PNG and SVG, with an embedded font (DejaVu Sans): text renders the
//! same on a machine without any system font.
//!
//! 1. timeline of demand against current and ready workers, scale events marked;
//! 2. cost against p95 wait for every setting, with the frontier;
//! 3. a heatmap of the objective over two swept keys;
//! 4. cumulative cost over time.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use scaler_formats::csvio::{CsvReader, Next};
use scaler_formats::error::{InputError, SimError};

static FONT: Once = Once::new();

/// Registers the embedded font under the family name plotters asks for.
pub fn ensure_font() {
    FONT.call_once(|| {
        // The bytes are valid TrueType fonts shipped by the `dejavu` crate.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

const W: u32 = 1200;
const H: u32 = 700;
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(150, 150, 150);
/// Series colours, in order (baseline, recommended, then further policies).
const PALETTE: [RGBColor; 6] =
    [BLUE, ORANGE, RGBColor(148, 103, 189), RGBColor(140, 86, 75), RGBColor(23, 190, 207), RGBColor(188, 189, 34)];

fn chart_error(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::io(path, "draw the chart", std::io::Error::other(e.to_string()))
}

/// Draws the body (which uses `$root: &DrawingArea<_, Shift>` and returns
/// `Result<(), String>`) into `<base>.png` and `<base>.svg`.
macro_rules! both {
    ($base:expr, |$root:ident| $body:block) => {{
        ensure_font();
        let png = $base.with_extension("png");
        let svg = $base.with_extension("svg");
        {
            let area = BitMapBackend::new(&png, (W, H)).into_drawing_area();
            let $root = &area;
            let r: Result<(), String> = (|| $body)();
            r.map_err(|e| chart_error(&png, e))?;
            area.present().map_err(|e| chart_error(&png, e))?;
        }
        {
            let area = SVGBackend::new(&svg, (W, H)).into_drawing_area();
            let $root = &area;
            let r: Result<(), String> = (|| $body)();
            r.map_err(|e| chart_error(&svg, e))?;
            area.present().map_err(|e| chart_error(&svg, e))?;
        }
        Ok(())
    }};
}

/// The frame every x/y chart shares: caption, margins, axes with their descriptions.
fn xy_chart<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_desc: impl Into<String>,
    y_desc: &str,
    origin_unix_ms: Option<i64>,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    String,
> {
    let mut ch = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 26))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())?;
    let on_clock =
        |h: &f64| origin_unix_ms.map_or_else(|| format!("{h}"), |o| scaler_formats::origin::axis_label(o, *h));
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(x_desc).y_desc(y_desc).label_style(("sans-serif", 16)).axis_desc_style(("sans-serif", 18));
    if origin_unix_ms.is_some() {
        mesh.x_label_formatter(&on_clock).x_labels(6);
    }
    mesh.draw().map_err(|e| e.to_string())?;
    Ok(ch)
}

/// Draws the series legend in the charts' common style.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    ch: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> Result<(), String> {
    ch.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", font_size))
        .position(position)
        .draw()
        .map_err(|e| e.to_string())
}

/// One run's timeline, as read back from `timeline.csv`.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// Legend label.
    pub label: String,
    /// Tick times, hours.
    pub t_h: Vec<f64>,
    /// Running + pending tasks.
    pub demand: Vec<f64>,
    /// Current workers.
    pub current: Vec<f64>,
    /// Ready workers.
    pub ready: Vec<f64>,
    /// Cost so far.
    pub cost: Vec<f64>,
    /// `(time h, workers)` of scale-ups.
    pub ups: Vec<(f64, f64)>,
    /// `(time h, workers)` of scale-downs.
    pub downs: Vec<(f64, f64)>,
    /// The wall-clock time of hour 0 (ms since the Unix epoch), when the trace's origin is
    /// known: the time axis is then labelled with UTC dates.
    pub origin_unix_ms: Option<i64>,
}

/// Scale events beyond this many per series are not marked (they would hide the lines).
const MAX_MARKED_EVENTS: usize = 300;

/// Rows a series keeps before pairs of neighbouring rows merge (the charts draw at most
/// 1500 points, so a timeline of any length is read in this much memory).
const MAX_KEPT_ROWS: usize = 8192;

/// The per-tick values a chart draws, merged bucket by bucket (maxima, so peaks survive).
#[derive(Clone, Copy)]
struct Point {
    t_h: f64,
    demand: f64,
    current: f64,
    ready: f64,
    cost: f64,
}

impl Point {
    fn merge(self, later: Point) -> Point {
        Point {
            t_h: self.t_h,
            demand: self.demand.max(later.demand),
            current: self.current.max(later.current),
            ready: self.ready.max(later.ready),
            cost: self.cost.max(later.cost),
        }
    }
}

/// Reads a `timeline.csv`, keeping the rows between `window_h` hours `(from, to)` if given.
///
/// Memory is bounded: a timeline of more than 8,192 rows is kept as buckets of
/// neighbouring rows (each its first time and the maxima of its values), and at most
/// `MAX_MARKED_EVENTS + 1` scale events are kept (more are not marked anyway).
pub fn read_timeline(path: &Path, label: &str, window_h: Option<(f64, f64)>) -> Result<Timeline, InputError> {
    let mut csv = CsvReader::open(path)?;
    let [t, cur, ready, pend, run, act, cost] =
        csv.require(["time_s", "current_workers", "ready", "pending_tasks", "running_tasks", "action", "cost"])?;
    let num = |csv: &CsvReader<std::fs::File>, i: usize| -> Result<f64, InputError> {
        let x = csv.get(i)?.parse::<f64>().map_err(|_| csv.field_error(i, "must be a number"))?;
        // The plotting library loops on infinities and NaN: refuse them here.
        if !x.is_finite() {
            return Err(csv.field_error(i, format!("{x} is not a finite number")));
        }
        Ok(x)
    };
    let mut points: Vec<Point> = Vec::new();
    // Rows per kept point, and the point being filled.
    let mut per = 1usize;
    let mut filling: Option<(Point, usize)> = None;
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    loop {
        match csv.next_row()? {
            Next::End => break,
            Next::Bad(e) => return Err(e),
            Next::Row => {}
        }
        let th = num(&csv, t)? / 3600.0;
        let p = Point {
            t_h: th,
            current: num(&csv, cur)?,
            ready: num(&csv, ready)?,
            demand: num(&csv, pend)? + num(&csv, run)?,
            cost: num(&csv, cost)?,
        };
        let action = csv.get(act)?;
        if window_h.is_some_and(|(a, b)| th < a || th > b) {
            continue;
        }
        if ups.len() + downs.len() <= MAX_MARKED_EVENTS {
            match action {
                "scale_up" => ups.push((th, p.current)),
                "scale_down" => downs.push((th, p.current)),
                _ => {}
            }
        }
        filling = Some(match filling {
            None => (p, 1),
            Some((q, n)) => (q.merge(p), n + 1),
        });
        if let Some((q, n)) = filling {
            if n == per {
                points.push(q);
                filling = None;
                if points.len() == 2 * MAX_KEPT_ROWS {
                    points = points.chunks(2).map(|c| c[1..].iter().fold(c[0], |a, &b| a.merge(b))).collect();
                    per *= 2;
                }
            }
        }
    }
    points.extend(filling.map(|(q, _)| q));
    Ok(Timeline {
        label: label.to_string(),
        t_h: points.iter().map(|p| p.t_h).collect(),
        demand: points.iter().map(|p| p.demand).collect(),
        current: points.iter().map(|p| p.current).collect(),
        ready: points.iter().map(|p| p.ready).collect(),
        cost: points.iter().map(|p| p.cost).collect(),
        ups,
        downs,
        origin_unix_ms: None,
    })
}

/// At most `n` points: the maximum of each bucket (peaks survive).
fn thin(t: &[f64], v: &[f64], n: usize) -> Vec<(f64, f64)> {
    if t.len() <= n {
        return t.iter().copied().zip(v.iter().copied()).collect();
    }
    let per = t.len().div_ceil(n);
    t.chunks(per).zip(v.chunks(per)).map(|(tc, vc)| (tc[0], vc.iter().copied().fold(f64::MIN, f64::max))).collect()
}

fn max_of(v: impl Iterator<Item = f64>) -> f64 {
    v.fold(0.0, f64::max)
}

/// The origin every series shares, if they all have the same one.
fn series_origin(series: &[Timeline]) -> Option<i64> {
    let first = series.first()?.origin_unix_ms?;
    series.iter().all(|s| s.origin_unix_ms == Some(first)).then_some(first)
}

/// The time axis' description: hours, or UTC dates from the trace's origin.
fn time_unit(series: &[Timeline]) -> String {
    series_origin(series).map_or_else(
        || "time (hours)".to_string(),
        |o| format!("time (UTC; hour 0 = {})", scaler_formats::origin::format_utc(o)),
    )
}

/// Chart 1: demand (running + pending) against current and ready workers, scale events marked.
pub fn timeline_chart(series: &[Timeline], title: &str, base: &Path) -> Result<(), SimError> {
    let t_min = series.iter().flat_map(|s| s.t_h.first().copied()).fold(f64::MAX, f64::min).min(f64::MAX);
    let t_min = if t_min == f64::MAX { 0.0 } else { t_min };
    let t_max = max_of(series.iter().flat_map(|s| s.t_h.iter().copied())).max(t_min + 1e-6);
    let y_max = max_of(series.iter().flat_map(|s| s.demand.iter().chain(&s.current).copied())).max(1.0) * 1.08;
    let colors = PALETTE;
    let mark = series.iter().all(|s| s.ups.len() + s.downs.len() <= MAX_MARKED_EVENTS);
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let unit = time_unit(series);
        let x_desc = if mark {
            unit.clone()
        } else {
            format!("{unit}; scale events not marked: too many to show, zoom in with plot --window-h")
        };
        let origin = series_origin(series);
        let y_desc = "tasks (running + pending) / workers";
        let mut ch = xy_chart(root, title, t_min..t_max, 0.0..y_max, x_desc, y_desc, origin)?;
        for (i, s) in series.iter().enumerate() {
            let c = colors[i % colors.len()];
            ch.draw_series(LineSeries::new(thin(&s.t_h, &s.demand, 1500), c.mix(0.55).stroke_width(1)))
                .map_err(|e| e.to_string())?
                .label(format!("{}: demand (running + pending tasks)", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.mix(0.55)));
            ch.draw_series(LineSeries::new(thin(&s.t_h, &s.current, 1500), c.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(format!("{}: current workers", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
            ch.draw_series(DashedLineSeries::new(thin(&s.t_h, &s.ready, 1500), 6, 4, c.stroke_width(1)))
                .map_err(|e| e.to_string())?
                .label(format!("{}: ready workers (dashed)", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(1)));
            if !mark {
                continue;
            }
            let ups = ch
                .draw_series(s.ups.iter().map(|&(x, y)| TriangleMarker::new((x, y), 7, GREEN.filled())))
                .map_err(|e| e.to_string())?;
            if i == 0 {
                ups.label("scale up").legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, GREEN.filled()));
            }
            let downs = ch
                .draw_series(s.downs.iter().map(|&(x, y)| Cross::new((x, y), 6, RED.stroke_width(2))))
                .map_err(|e| e.to_string())?;
            if i == 0 {
                downs.label("scale down").legend(|(x, y)| Cross::new((x + 10, y), 5, RED.stroke_width(2)));
            }
        }
        legend(&mut ch, SeriesLabelPosition::UpperLeft, 15)?;
        Ok(())
    })
}

/// Chart 4: cumulative cost over time.
pub fn cost_chart(series: &[Timeline], title: &str, base: &Path) -> Result<(), SimError> {
    let t_max = max_of(series.iter().flat_map(|s| s.t_h.iter().copied())).max(1e-6);
    let y_max = max_of(series.iter().flat_map(|s| s.cost.iter().copied())).max(1e-6) * 1.08;
    let colors = PALETTE;
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (unit, origin) = (time_unit(series), series_origin(series));
        let mut ch = xy_chart(root, title, 0.0..t_max, 0.0..y_max, unit, "cumulative cost (price units)", origin)?;
        for (i, s) in series.iter().enumerate() {
            let c = colors[i % colors.len()];
            let last = s.cost.last().copied().unwrap_or(0.0);
            ch.draw_series(LineSeries::new(thin(&s.t_h, &s.cost, 1500), c.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(format!("{} (total {last:.2})", s.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        }
        legend(&mut ch, SeriesLabelPosition::UpperLeft, 16)?;
        Ok(())
    })
}

/// Chart 2: cost against p95 wait for every setting, the frontier drawn.
pub fn frontier_chart(
    points: &[(f64, f64)],
    frontier: &[(f64, f64)],
    baseline: (f64, f64),
    recommended: Option<(f64, f64)>,
    title: &str,
    base: &Path,
) -> Result<(), SimError> {
    let all = points.iter().chain(std::iter::once(&baseline)).chain(recommended.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, 0.0f64, 0.0f64);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let pad = ((x1 - x0) * 0.08).max(x1.abs() * 0.02).max(1e-6);
    let (x0, x1, y1) = ((x0 - pad).max(0.0), x1 + pad, (y1 * 1.1).max(1.0));
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut ch = xy_chart(root, title, x0..x1, 0.0..y1, "cost (price units)", "p95 wait (s)", None)?;
        ch.draw_series(points.iter().map(|&p| Circle::new(p, 4, GREY.mix(0.7).filled())))
            .map_err(|e| e.to_string())?
            .label("setting")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, GREY.filled()));
        ch.draw_series(LineSeries::new(frontier.iter().copied(), BLUE.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("cost / p95 wait frontier")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        ch.draw_series(frontier.iter().map(|&p| Circle::new(p, 5, BLUE.filled()))).map_err(|e| e.to_string())?;
        ch.draw_series(std::iter::once(Cross::new(baseline, 9, RED.stroke_width(3))))
            .map_err(|e| e.to_string())?
            .label("baseline (the scenario's own setting)")
            .legend(|(x, y)| Cross::new((x + 10, y), 6, RED.stroke_width(3)));
        if let Some(r) = recommended {
            ch.draw_series(std::iter::once(TriangleMarker::new(r, 11, GREEN.filled())))
                .map_err(|e| e.to_string())?
                .label("recommended")
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 7, GREEN.filled()));
        }
        legend(&mut ch, SeriesLabelPosition::UpperRight, 16)?;
        Ok(())
    })
}

/// Chart 3: a heatmap of the objective over two swept keys (`None`: no feasible setting).
pub fn heatmap_chart(
    x_key: &str,
    x_labels: &[String],
    y_key: &str,
    y_labels: &[String],
    cells: &[Vec<Option<f64>>],
    what: &str,
    base: &Path,
) -> Result<(), SimError> {
    let vals: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let lo = vals.iter().copied().fold(f64::MAX, f64::min);
    let hi = vals.iter().copied().fold(f64::MIN, f64::max);
    let nx = x_labels.len();
    let ny = y_labels.len();
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (area, side) = root.split_horizontally(W - 170);
        let mut ch = ChartBuilder::on(&area)
            .caption(format!("{what} over {x_key} x {y_key}"), ("sans-serif", 24))
            .margin(18)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d((0..nx.saturating_sub(1)).into_segmented(), (0..ny.saturating_sub(1)).into_segmented())
            .map_err(|e| e.to_string())?;
        let label = |labels: &[String], v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        ch.configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&|v| label(x_labels, v))
            .y_label_formatter(&|v| label(y_labels, v))
            .x_desc(x_key)
            .y_desc(y_key)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(|e| e.to_string())?;
        let color = |v: f64| -> RGBColor {
            let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            // Low (good for minimize) is green, high is red.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            RGBColor((60.0 + 180.0 * f) as u8, (190.0 - 130.0 * f) as u8, 90)
        };
        for (yi, row) in cells.iter().enumerate() {
            for (xi, cell) in row.iter().enumerate() {
                let style = match cell {
                    Some(v) => color(*v).filled(),
                    None => RGBColor(225, 225, 225).filled(),
                };
                let corners = [
                    (SegmentValue::Exact(xi), SegmentValue::Exact(yi)),
                    (SegmentValue::Exact(xi + 1), SegmentValue::Exact(yi + 1)),
                ];
                ch.draw_series(std::iter::once(Rectangle::new(corners, style))).map_err(|e| e.to_string())?;
                let text = cell.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"));
                let font = ("sans-serif", 16).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
                ch.draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(xi), SegmentValue::CenterOf(yi)),
                    font,
                )))
                .map_err(|e| e.to_string())?;
            }
        }
        side.draw(&Text::new(format!("low  {lo:.3}"), (10, 120), ("sans-serif", 16).into_font().color(&color(lo))))
            .map_err(|e| e.to_string())?;
        side.draw(&Text::new(format!("high {hi:.3}"), (10, 150), ("sans-serif", 16).into_font().color(&color(hi))))
            .map_err(|e| e.to_string())?;
        side.draw(&Text::new("grey: no setting", (10, 180), ("sans-serif", 14))).map_err(|e| e.to_string())?;
        side.draw(&Text::new("meets the constraints", (10, 198), ("sans-serif", 14))).map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Labelled points: cost against p95 wait for several policies.
pub fn labelled_points_chart(points: &[(String, f64, f64)], title: &str, base: &Path) -> Result<(), SimError> {
    let x1 = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-6) * 1.15;
    let y1 = points.iter().map(|p| p.2).fold(0.0, f64::max).max(1.0) * 1.15;
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut ch = xy_chart(root, title, 0.0..x1, 0.0..y1, "cost (price units)", "p95 wait (s)", None)?;
        for (i, (name, x, y)) in points.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            ch.draw_series(std::iter::once(Circle::new((*x, *y), 8, c.filled())))
                .map_err(|e| e.to_string())?
                .label(name.clone())
                .legend(move |(lx, ly)| Circle::new((lx + 10, ly), 6, c.filled()));
            ch.draw_series(std::iter::once(Text::new(
                name.clone(),
                (*x, *y),
                ("sans-serif", 16).into_font().color(&BLACK),
            )))
            .map_err(|e| e.to_string())?;
        }
        legend(&mut ch, SeriesLabelPosition::UpperRight, 16)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline_file(rows: usize, spike_at: usize) -> tempfile::NamedTempFile {
        let mut text = String::from(
            "time_s,current_workers,ready,provisioning,draining,pending_tasks,running_tasks,worker_utilization,window_utilization,action,target_workers,reason,cost\n",
        );
        for i in 0..rows {
            let cur = if i == spike_at { 999 } else { 1 + i % 7 };
            let action = if i % 1000 == 0 { "scale_up" } else { "hold" };
            text.push_str(&format!("{},{cur},{cur},0,0,{},0,0,0,{action},{cur},within_band,{}\n", i * 30, i % 5, i));
        }
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn a_long_timeline_is_read_in_bounded_memory_and_keeps_its_peaks() {
        let f = timeline_file(200_000, 123_457);
        let tl = read_timeline(f.path(), "x", None).unwrap();
        assert!(tl.t_h.len() <= 2 * MAX_KEPT_ROWS && tl.t_h.len() >= MAX_KEPT_ROWS / 2, "{}", tl.t_h.len());
        assert_eq!(tl.current.iter().copied().fold(0.0, f64::max), 999.0, "the peak survives the merging");
        assert_eq!(tl.t_h[0], 0.0);
        assert_eq!(*tl.cost.last().unwrap(), 199_999.0, "the last cost is kept");
        assert!(tl.ups.len() + tl.downs.len() <= MAX_MARKED_EVENTS + 1);
    }

    #[test]
    fn a_short_timeline_is_read_row_for_row_and_a_window_keeps_its_rows() {
        let f = timeline_file(5000, 10);
        let tl = read_timeline(f.path(), "x", None).unwrap();
        assert_eq!(tl.t_h.len(), 5000);
        assert_eq!(tl.current[10], 999.0);
        assert_eq!(tl.ups.len(), 5);
        // Hours 10 to 20: rows 1200..=2400 (30 s each).
        let w = read_timeline(f.path(), "x", Some((10.0, 20.0))).unwrap();
        assert_eq!(w.t_h.len(), 1201);
        assert_eq!(w.t_h[0], 10.0);
        assert_eq!(w.ups, vec![(2000.0 * 30.0 / 3600.0, 1.0 + (2000 % 7) as f64)]);
    }
}
