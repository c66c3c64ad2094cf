//! Charts, as PNG and SVG, with an embedded font (DejaVu Sans): text renders the
//! same on a machine without any system font.
//!
//! 1. timeline of demand against current and ready workers, scale events marked;
//! 2. cost against p95 wait for every setting, with the frontier;
//! 3. a heatmap of the objective over two swept keys;
//! 4. cumulative cost over time.
//!
//! Colours are colour-blind safe: the Okabe-Ito set for series and markers, viridis for
//! the heatmap (no red/green scale); series also differ by line style and markers by shape.

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
/// Okabe-Ito blue.
const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Okabe-Ito orange.
const ORANGE: RGBColor = RGBColor(230, 159, 0);
/// Okabe-Ito sky blue.
const SKY: RGBColor = RGBColor(86, 180, 233);
/// Okabe-Ito vermillion.
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREY: RGBColor = RGBColor(150, 150, 150);
/// Series colours, in order (baseline, recommended, then further policies): the Okabe-Ito
/// set, distinguishable with every common colour-vision deficiency.
pub const PALETTE: [RGBColor; 7] =
    [BLUE, ORANGE, RGBColor(0, 158, 115), RGBColor(204, 121, 167), SKY, VERMILLION, RGBColor(0, 0, 0)];
/// Dash patterns (dash, gap in pixels) of series 1, 2, ... (series 0 is solid).
const DASHES: [(u32, u32); 6] = [(12, 6), (3, 4), (22, 6), (7, 3), (16, 3), (2, 8)];

/// Viridis, sampled at 9 even stops (dark purple to yellow).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// The viridis colour at `f` in `0..=1` (linear between the stops).
#[must_use]
pub fn viridis(f: f64) -> RGBColor {
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    let x = f * (VIRIDIS.len() - 1) as f64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let t = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Draws `points` in the style of series `i`: solid for the first, then dashed patterns.
fn styled_line<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate<From = (f64, f64)>>(
    ch: &mut ChartContext<'a, DB, CT>,
    i: usize,
    points: Vec<(f64, f64)>,
    style: ShapeStyle,
) -> Result<(), String> {
    if i == 0 {
        ch.draw_series(LineSeries::new(points, style)).map_err(|e| e.to_string())?;
    } else {
        let (size, gap) = DASHES[(i - 1) % DASHES.len()];
        ch.draw_series(DashedLineSeries::new(points, size, gap, style)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The three segments (start, end x offsets) of a legend sample of series `i`'s line
/// style: touching for the solid first series, with its gaps for the dashed ones.
fn dash_segments(i: usize) -> [(i32, i32); 3] {
    if i == 0 {
        return [(0, 7), (7, 14), (14, 20)];
    }
    let (d, g) = DASHES[(i - 1) % DASHES.len()];
    #[allow(clippy::cast_possible_wrap)]
    let (d, g) = ((d as i32).min(5), (g as i32).min(3));
    [(0, d), (d + g, 2 * d + g), (2 * d + 2 * g, 3 * d + 2 * g)]
}

/// A legend sample of series `i`'s line style at `(x, y)`.
macro_rules! line_sample {
    ($i:expr, $style:expr) => {{
        let (segs, st) = (dash_segments($i), $style);
        move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(segs[0].0, 0), (segs[0].1, 0)], st)
                + PathElement::new(vec![(segs[1].0, 0), (segs[1].1, 0)], st)
                + PathElement::new(vec![(segs[2].0, 0), (segs[2].1, 0)], st)
        }
    }};
}

fn chart_error(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::io(path, "draw the chart", std::io::Error::other(e.to_string()))
}

/// Draws the body (which uses `$root: &DrawingArea<_, Shift>` and returns
/// `Result<(), String>`) into `<base>.png` and `<base>.svg`.
macro_rules! both {
    ($base:expr, |$root:ident| $body:block) => {
        both!($base, (W, H), |$root| $body)
    };
    ($base:expr, $size:expr, |$root:ident| $body:block) => {{
        ensure_font();
        let png = $base.with_extension("png");
        let svg = $base.with_extension("svg");
        {
            let area = BitMapBackend::new(&png, $size).into_drawing_area();
            let $root = &area;
            let r: Result<(), String> = (|| $body)();
            r.map_err(|e| chart_error(&png, e))?;
            area.present().map_err(|e| chart_error(&png, e))?;
        }
        {
            let area = SVGBackend::new(&svg, $size).into_drawing_area();
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
    /// The run's total cost as its summary states it (`summary.json`'s `cost`): the
    /// legend's total, so that the two agree to the last digit. `None`: the last row's.
    pub total_cost: Option<f64>,
    /// Task slots per worker: the capacity line (current workers x slots) is drawn beside
    /// the tasks when it is more than 1.
    pub slots_per_worker: Option<u32>,
    /// The hours `(from, to)` the timeline was read for (`plot --window-h`), if any.
    pub window_h: Option<(f64, f64)>,
    /// The cost so far at the window's start (the last row before it; 0 without a
    /// window): the cost chart shows and totals the cost within the window.
    pub cost_before: f64,
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
/// A window that holds no row of the timeline (it lies outside the hours the timeline
/// covers) is refused, naming `--window-h` and the hours the data covers.
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
    let (mut first_h, mut last_h, mut cost_before) = (None::<f64>, 0.0f64, 0.0f64);
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
        first_h.get_or_insert(th);
        last_h = last_h.max(th);
        if window_h.is_some_and(|(a, _)| th < a) {
            cost_before = p.cost;
        }
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
    if let (Some((a, b)), true) = (window_h, points.is_empty()) {
        let covers = first_h
            .map_or_else(|| "has no rows".to_string(), |f| format!("covers hours {} to {}", fmt_h(f), fmt_h(last_h)));
        return Err(InputError::file(
            Path::new(&format!("--window-h {},{}", fmt_h(a), fmt_h(b))),
            format!("is outside the data: {} {covers}", path.display()),
        ));
    }
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
        total_cost: None,
        slots_per_worker: None,
        window_h,
        cost_before: if window_h.is_some() { cost_before } else { 0.0 },
    })
}

/// Hours as short text (`48`, `2.5`).
fn fmt_h(h: f64) -> String {
    let s = format!("{h:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Timeline {
    /// The total the cost chart's legend shows: the summary's cost, or the cost within the
    /// window (`plot --window-h`).
    #[must_use]
    pub fn legend_cost(&self) -> f64 {
        let last = self.cost.last().copied().unwrap_or(0.0);
        match (self.window_h, self.total_cost) {
            (Some(_), _) => last - self.cost_before,
            (None, Some(c)) => c,
            (None, None) => last,
        }
    }

    /// The legend's text for the cost total.
    #[must_use]
    pub fn legend_cost_text(&self) -> String {
        let money = scaler_formats::fmtnum::format_money(self.legend_cost());
        match self.window_h {
            Some((a, b)) => format!("cost in hours {} to {}: {money}", fmt_h(a), fmt_h(b)),
            None => format!("total cost {money}"),
        }
    }
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

/// The x range every timeline chart of `series` shares: the hours the series hold (the
/// window's, with `--window-h`).
fn time_range(series: &[Timeline]) -> (f64, f64) {
    let t_min = series.iter().flat_map(|s| s.t_h.first().copied()).fold(f64::MAX, f64::min);
    let t_min = if t_min == f64::MAX { 0.0 } else { t_min };
    let t_max = series.iter().flat_map(|s| s.t_h.iter().copied()).fold(t_min, f64::max).max(t_min + 1e-6);
    (t_min, t_max)
}

/// The y axis' top for demand, workers and capacity.
fn workers_top(series: &[Timeline]) -> f64 {
    let top = |s: &Timeline| {
        let k = f64::from(s.slots_per_worker.unwrap_or(1).max(1));
        max_of(s.demand.iter().copied()).max(max_of(s.current.iter().map(|c| c * k)))
    };
    max_of(series.iter().map(top)).max(1.0) * 1.08
}

const Y_TASKS: &str = "tasks (running + pending) and workers (count)";

/// Draws one series' demand, workers, ready workers, capacity and scale events.
fn draw_timeline_series<'a, DB: DrawingBackend + 'a>(
    ch: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    s: &Timeline,
    c: RGBColor,
    mark: bool,
    label_events: bool,
    prefix: &str,
) -> Result<(), String> {
    ch.draw_series(LineSeries::new(thin(&s.t_h, &s.demand, 1500), c.mix(0.45).stroke_width(1)))
        .map_err(|e| e.to_string())?
        .label(format!("{prefix}demand (running + pending tasks)"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.mix(0.45)));
    ch.draw_series(LineSeries::new(thin(&s.t_h, &s.current, 1500), c.stroke_width(3)))
        .map_err(|e| e.to_string())?
        .label(format!("{prefix}current workers"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    ch.draw_series(DashedLineSeries::new(thin(&s.t_h, &s.ready, 1500), 6, 4, c.stroke_width(1)))
        .map_err(|e| e.to_string())?
        .label(format!("{prefix}ready workers (dashed)"))
        .legend(line_sample!(1, c.stroke_width(1)));
    if let Some(k) = s.slots_per_worker.filter(|k| *k > 1) {
        let cap: Vec<f64> = s.current.iter().map(|w| w * f64::from(k)).collect();
        ch.draw_series(DashedLineSeries::new(thin(&s.t_h, &cap, 1500), 2, 4, c.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("{prefix}capacity: current workers x {k} slots (dotted)"))
            .legend(line_sample!(2, c.stroke_width(2)));
    }
    if !mark {
        return Ok(());
    }
    let ups = ch
        .draw_series(s.ups.iter().map(|&(x, y)| TriangleMarker::new((x, y), 7, BLACK.filled())))
        .map_err(|e| e.to_string())?;
    if label_events {
        ups.label("scale up (triangle)").legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, BLACK.filled()));
    }
    let downs = ch
        .draw_series(s.downs.iter().map(|&(x, y)| Cross::new((x, y), 6, VERMILLION.stroke_width(2))))
        .map_err(|e| e.to_string())?;
    if label_events {
        downs.label("scale down (cross)").legend(|(x, y)| Cross::new((x + 10, y), 5, VERMILLION.stroke_width(2)));
    }
    Ok(())
}

/// Chart 1: demand (running + pending) against current and ready workers, and the
/// capacity (current workers x slots) when a worker has several slots; scale events marked.
pub fn timeline_chart(series: &[Timeline], title: &str, base: &Path) -> Result<(), SimError> {
    let (t_min, t_max) = time_range(series);
    let y_max = workers_top(series);
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
        let mut ch = xy_chart(root, title, t_min..t_max, 0.0..y_max, x_desc, Y_TASKS, origin)?;
        for (i, s) in series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            draw_timeline_series(&mut ch, s, c, mark, i == 0, &format!("{}: ", s.label))?;
        }
        legend(&mut ch, SeriesLabelPosition::UpperLeft, 15)?;
        Ok(())
    })
}

/// Height of one panel of [`timeline_panels_chart`].
const PANEL_H: u32 = 300;

/// Chart 1 for many series: one panel per series, stacked, with the same time and
/// workers axes, so that five policies stay readable.
pub fn timeline_panels_chart(series: &[Timeline], title: &str, base: &Path) -> Result<(), SimError> {
    let (t_min, t_max) = time_range(series);
    let y_max = workers_top(series);
    let mark = series.iter().all(|s| s.ups.len() + s.downs.len() <= MAX_MARKED_EVENTS);
    #[allow(clippy::cast_possible_truncation)]
    let n = series.len().max(1) as u32;
    let height = 60 + PANEL_H * n;
    both!(base, (W, height), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root.titled(title, ("sans-serif", 26)).map_err(|e| e.to_string())?.margin(10, 0, 0, 0);
        let panels = root.split_evenly((series.len().max(1), 1));
        let (unit, origin) = (time_unit(series), series_origin(series));
        let unit = if mark { unit } else { format!("{unit}; scale events not marked: too many to show") };
        for (i, (s, area)) in series.iter().zip(&panels).enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let y_desc = "tasks, workers (count)";
            let mut ch = xy_chart(area, &s.label, t_min..t_max, 0.0..y_max, unit.clone(), y_desc, origin)?;
            draw_timeline_series(&mut ch, s, c, mark, i == 0, "")?;
            // One legend, in the first panel: the panels differ only by colour.
            if i == 0 {
                legend(&mut ch, SeriesLabelPosition::UpperLeft, 13)?;
            }
        }
        Ok(())
    })
}

/// Chart 4: cumulative cost over time (within the window with `--window-h`); each
/// series' legend states its total, the summary's `cost`.
pub fn cost_chart(series: &[Timeline], title: &str, base: &Path) -> Result<(), SimError> {
    let (t_min, t_max) = time_range(series);
    let y_max = max_of(series.iter().flat_map(|s| s.cost.iter().map(|c| c - s.cost_before))).max(1e-6) * 1.08;
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (unit, origin) = (time_unit(series), series_origin(series));
        let y_desc = if series.iter().any(|s| s.window_h.is_some()) {
            "cost since the window's start (price units)"
        } else {
            "cumulative cost (price units)"
        };
        let mut ch = xy_chart(root, title, t_min..t_max, 0.0..y_max, unit, y_desc, origin)?;
        for (i, s) in series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let cost: Vec<f64> = s.cost.iter().map(|v| v - s.cost_before).collect();
            styled_line(&mut ch, i, thin(&s.t_h, &cost, 1500), c.stroke_width(3))?;
            // The legend entry: an empty series carrying the label.
            ch.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(|e| e.to_string())?
                .label(format!("{} ({})", s.label, s.legend_cost_text()))
                .legend(line_sample!(i, c.stroke_width(3)));
        }
        legend(&mut ch, SeriesLabelPosition::UpperLeft, 16)?;
        Ok(())
    })
}

/// The constraint the frontier chart draws: a bound on its y metric.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintLine {
    /// The bound (seconds for `wait_p95_s`).
    pub bound: f64,
    /// Its text, `wait_p95_s <= 30`.
    pub label: String,
}

/// Chart 2: cost against p95 wait for every setting, the frontier drawn, the settings that
/// meet the objective's constraints (`feasible`, one per point) filled and the others
/// hollow, and the constraint on p95 wait as a line when the objective has one.
#[allow(clippy::too_many_arguments)]
pub fn frontier_chart(
    points: &[(f64, f64)],
    feasible: &[bool],
    frontier: &[(f64, f64)],
    baseline: (f64, f64),
    recommended: Option<(f64, f64)>,
    constraint: Option<&ConstraintLine>,
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
    if let Some(c) = constraint {
        y1 = y1.max(c.bound);
    }
    let pad = ((x1 - x0) * 0.08).max(x1.abs() * 0.02).max(1e-6);
    let (x0, x1, y1) = ((x0 - pad).max(0.0), x1 + pad, (y1 * 1.1).max(1.0));
    let meets = |i: usize| feasible.get(i).copied().unwrap_or(true);
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut ch = xy_chart(root, title, x0..x1, 0.0..y1, "cost (price units)", "p95 wait (s)", None)?;
        if let Some(c) = constraint {
            let line = vec![(x0, c.bound), (x1, c.bound)];
            ch.draw_series(DashedLineSeries::new(line, 10, 6, VERMILLION.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            ch.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(|e| e.to_string())?
                .label(format!("constraint: {} (dashed line)", c.label))
                .legend(line_sample!(1, VERMILLION.stroke_width(2)));
        }
        let ok: Vec<(f64, f64)> = points.iter().enumerate().filter(|(i, _)| meets(*i)).map(|(_, p)| *p).collect();
        let bad: Vec<(f64, f64)> = points.iter().enumerate().filter(|(i, _)| !meets(*i)).map(|(_, p)| *p).collect();
        if !ok.is_empty() {
            ch.draw_series(ok.iter().map(|&p| Circle::new(p, 5, SKY.filled())))
                .map_err(|e| e.to_string())?
                .label("setting that meets the constraints (filled)")
                .legend(|(x, y)| Circle::new((x + 10, y), 5, SKY.filled()));
        }
        if !bad.is_empty() {
            ch.draw_series(bad.iter().map(|&p| Circle::new(p, 5, GREY.stroke_width(2))))
                .map_err(|e| e.to_string())?
                .label("setting that breaks a constraint (hollow)")
                .legend(|(x, y)| Circle::new((x + 10, y), 5, GREY.stroke_width(2)));
        }
        ch.draw_series(LineSeries::new(frontier.iter().copied(), BLUE.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("cost / p95 wait frontier")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        ch.draw_series(frontier.iter().map(|&p| Circle::new(p, 5, BLUE.filled()))).map_err(|e| e.to_string())?;
        ch.draw_series(std::iter::once(Cross::new(baseline, 9, BLACK.stroke_width(3))))
            .map_err(|e| e.to_string())?
            .label("baseline (the scenario's own setting)")
            .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(3)));
        if let Some(r) = recommended {
            ch.draw_series(std::iter::once(TriangleMarker::new(r, 11, ORANGE.filled())))
                .map_err(|e| e.to_string())?
                .label("recommended")
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 7, ORANGE.filled()));
        }
        legend(&mut ch, SeriesLabelPosition::UpperRight, 16)?;
        Ok(())
    })
}

/// Chart 3: a heatmap of the objective over two swept keys, on the viridis scale; a cell
/// holds the best value among its settings that meet the constraints (`constraints`, as
/// text, is shown), `None`: no setting of the cell meets them (grey, "none meets").
#[allow(clippy::too_many_arguments)]
pub fn heatmap_chart(
    x_key: &str,
    x_labels: &[String],
    y_key: &str,
    y_labels: &[String],
    cells: &[Vec<Option<f64>>],
    what: &str,
    constraints: &str,
    base: &Path,
) -> Result<(), SimError> {
    let vals: Vec<f64> = cells.iter().flatten().flatten().copied().collect();
    let lo = vals.iter().copied().fold(f64::MAX, f64::min);
    let hi = vals.iter().copied().fold(f64::MIN, f64::max);
    let nx = x_labels.len();
    let ny = y_labels.len();
    let frac = move |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    both!(base, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (area, side) = root.split_horizontally(W - 190);
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
        for (yi, row) in cells.iter().enumerate() {
            for (xi, cell) in row.iter().enumerate() {
                let (style, ink) = match cell {
                    Some(v) => (viridis(frac(*v)).filled(), if frac(*v) > 0.6 { BLACK } else { WHITE }),
                    None => (RGBColor(225, 225, 225).filled(), BLACK),
                };
                let corners = [
                    (SegmentValue::Exact(xi), SegmentValue::Exact(yi)),
                    (SegmentValue::Exact(xi + 1), SegmentValue::Exact(yi + 1)),
                ];
                ch.draw_series(std::iter::once(Rectangle::new(corners, style))).map_err(|e| e.to_string())?;
                let text = cell.map_or_else(|| "none meets".to_string(), |v| format!("{v:.3}"));
                let font = ("sans-serif", 16).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                ch.draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(xi), SegmentValue::CenterOf(yi)),
                    font,
                )))
                .map_err(|e| e.to_string())?;
            }
        }
        // The colour bar: viridis from low (bottom) to high (top).
        let (bar_top, bar_h) = (110, 300);
        for k in 0..bar_h {
            let f = 1.0 - f64::from(k) / f64::from(bar_h - 1);
            side.draw(&Rectangle::new([(12, bar_top + k), (40, bar_top + k + 1)], viridis(f).filled()))
                .map_err(|e| e.to_string())?;
        }
        let small = ("sans-serif", 14);
        if vals.is_empty() {
            side.draw(&Text::new("no value:", (46, bar_top), small)).map_err(|e| e.to_string())?;
            side.draw(&Text::new("no cell meets", (46, bar_top + 18), small)).map_err(|e| e.to_string())?;
        } else {
            side.draw(&Text::new(format!("high {hi:.3}"), (46, bar_top), small)).map_err(|e| e.to_string())?;
            side.draw(&Text::new(format!("low {lo:.3}"), (46, bar_top + bar_h - 14), small))
                .map_err(|e| e.to_string())?;
        }
        side.draw(&Rectangle::new(
            [(12, bar_top + bar_h + 20), (40, bar_top + bar_h + 40)],
            RGBColor(225, 225, 225).filled(),
        ))
        .map_err(|e| e.to_string())?;
        side.draw(&Text::new("none meets", (46, bar_top + bar_h + 24), small)).map_err(|e| e.to_string())?;
        side.draw(&Text::new("cells: settings that meet", (6, bar_top + bar_h + 56), small))
            .map_err(|e| e.to_string())?;
        side.draw(&Text::new(constraints.to_string(), (6, bar_top + bar_h + 74), small)).map_err(|e| e.to_string())?;
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
    fn viridis_runs_from_dark_purple_to_yellow_and_brightens_all_the_way() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(0.5), RGBColor(33, 144, 141));
        assert_eq!((viridis(-1.0), viridis(2.0), viridis(f64::NAN)), (viridis(0.0), viridis(1.0), viridis(0.0)));
        // Perceived brightness rises with the value: no scale that reads both ways.
        let luma = |c: RGBColor| 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
        let steps: Vec<f64> = (0..=100).map(|i| luma(viridis(f64::from(i) / 100.0))).collect();
        assert!(steps.windows(2).all(|w| w[1] >= w[0]), "{steps:?}");
    }

    #[test]
    fn a_window_outside_the_data_is_refused_and_its_cost_is_the_windows() {
        let f = timeline_file(5000, 10);
        // 5000 rows of 30 s: hours 0 to 41.658.
        for (a, b) in [(42.0, 50.0), (-5.0, -1.0)] {
            let e = read_timeline(f.path(), "x", Some((a, b))).unwrap_err().to_string();
            assert!(e.contains("is outside the data") && e.contains("covers hours 0 to 41.658"), "{e}");
        }
        // Hours 10 to 20: the cost of row i is i, the last row before hour 10 is 1199.
        let mut w = read_timeline(f.path(), "x", Some((10.0, 20.0))).unwrap();
        assert_eq!(w.legend_cost(), 2400.0 - 1199.0);
        assert_eq!(w.legend_cost_text(), "cost in hours 10 to 20: 1201");
        // Without a window: the summary's total when known, else the last row's.
        w.window_h = None;
        assert_eq!(w.legend_cost(), 2400.0);
        w.total_cost = Some(2400.25);
        assert_eq!(w.legend_cost_text(), "total cost 2400.25");
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
