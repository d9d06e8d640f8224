//! The chart of a run: producer rate, total lag and replicas over time, phases marked.
//! Written as SVG by hand (three stacked panels sharing the time axis) and rasterized
//! to PNG with resvg.

use std::fmt::Write as _;
use std::path::Path;

use crate::timeline::Timeline;

const WIDTH: f64 = 1000.0;
const PANEL: f64 = 170.0;
const GAP: f64 = 40.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;

struct Panel<'a> {
    title: &'a str,
    color: &'a str,
    values: Vec<(f64, f64)>,
    step: bool,
    /// Dashed per-phase reference values (the published replica counts).
    reference: Vec<(f64, f64, f64)>,
}

/// The chart as SVG text.
pub fn svg(timeline: &Timeline) -> String {
    let end = timeline.scenario.seconds() as f64;
    let samples = &timeline.samples;
    let panels = [
        Panel {
            title: "producer rate (events/s)",
            color: "#1f77b4",
            values: samples.iter().map(|s| (s.t, s.produced_per_s)).collect(),
            step: false,
            reference: vec![],
        },
        Panel {
            title: "total lag (events, as KEDA computes it)",
            color: "#d62728",
            values: samples.iter().map(|s| (s.t, s.total_lag as f64)).collect(),
            step: false,
            reference: vec![],
        },
        Panel {
            title: "consumer replicas (dashed: published)",
            color: "#2ca02c",
            values: samples.iter().map(|s| (s.t, s.replicas as f64)).collect(),
            step: true,
            reference: timeline
                .scenario
                .phases
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    p.published
                        .map(|v| (timeline.phase_starts[i], timeline.phase_end(i), v as f64))
                })
                .collect(),
        },
    ];
    let height = TOP + panels.len() as f64 * (PANEL + GAP) + 10.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |t: f64| LEFT + plot_w * (t / end.max(1.0));
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!(
        "{} — {} ({}{})",
        timeline.scenario.name, timeline.mode, timeline.scenario.partitions, " partitions"
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="22" font-size="16" font-weight="bold">{}</text>"#,
        escape(&title)
    );

    for (i, panel) in panels.iter().enumerate() {
        let top = TOP + i as f64 * (PANEL + GAP);
        let max = panel
            .values
            .iter()
            .map(|v| v.1)
            .chain(panel.reference.iter().map(|r| r.2))
            .fold(0.0f64, f64::max)
            .max(1.0);
        // Counts (the step panel) get whole-number ticks: a multiple of 4.
        let scale_max = if panel.step {
            (max / 4.0).ceil() * 4.0
        } else {
            nice_ceiling(max)
        };
        let y = |v: f64| top + PANEL - PANEL * (v / scale_max);
        let _ = writeln!(
            out,
            r##"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
            top - 6.0,
            escape(panel.title)
        );
        let _ = writeln!(
            out,
            r##"<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL}" fill="none" stroke="#999"/>"##
        );
        for k in 0..=4 {
            let v = scale_max * k as f64 / 4.0;
            let yy = y(v);
            let _ = writeln!(
                out,
                r##"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#eee"/>"##,
                LEFT + plot_w
            );
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
                LEFT - 6.0,
                yy + 4.0,
                trim(v)
            );
        }
        for (p, start) in timeline.phase_starts.iter().enumerate() {
            let xx = x(*start);
            let _ = writeln!(
                out,
                r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{top}" y2="{}" stroke="#888" stroke-dasharray="4 3"/>"##,
                top + PANEL
            );
            if i == 0 {
                let _ = writeln!(
                    out,
                    r##"<text x="{:.1}" y="{}" fill="#444" font-size="11">{}</text>"##,
                    xx + 4.0,
                    top + 14.0,
                    escape(&timeline.scenario.phases[p].name)
                );
            }
        }
        for (from, to, v) in &panel.reference {
            let yy = y(*v);
            let _ = writeln!(
                out,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#555" stroke-width="1.2" stroke-dasharray="6 4"/>"##,
                x(*from),
                x(*to)
            );
        }
        let mut path = String::new();
        let mut previous: Option<f64> = None;
        for (t, v) in &panel.values {
            let (xx, yy) = (x(*t), y(*v));
            match previous {
                None => write!(path, "M{xx:.1},{yy:.1}").unwrap(),
                Some(prev_y) if panel.step => {
                    write!(path, " L{xx:.1},{prev_y:.1} L{xx:.1},{yy:.1}").unwrap()
                }
                Some(_) => write!(path, " L{xx:.1},{yy:.1}").unwrap(),
            }
            previous = Some(yy);
        }
        let _ = writeln!(
            out,
            r#"<path d="{path}" fill="none" stroke="{}" stroke-width="1.8"/>"#,
            panel.color
        );
    }
    let axis_y = TOP + panels.len() as f64 * (PANEL + GAP) - GAP + 16.0;
    let tick = nice_step(end);
    let mut t = 0.0;
    while t <= end + 0.001 {
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{axis_y}" text-anchor="middle" fill="#555">{}s</text>"##,
            x(t),
            trim(t)
        );
        t += tick;
    }
    out.push_str("</svg>\n");
    out
}

fn nice_ceiling(v: f64) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * magnitude {
            return m * magnitude;
        }
    }
    10.0 * magnitude
}

fn nice_step(end: f64) -> f64 {
    let raw = end / 10.0;
    nice_ceiling(raw.max(1.0))
}

fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `chart.svg` and `chart.png` into `dir`.
pub fn write(timeline: &Timeline, dir: &Path) -> anyhow::Result<()> {
    let svg = svg(timeline);
    std::fs::write(dir.join("chart.svg"), &svg)?;
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(&svg, &options)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow::anyhow!("empty chart"))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.save_png(dir.join("chart.png"))?;
    Ok(())
}
