//! The chart of a run: producer rate, total lag and replicas over time, phases marked.
//! Three stacked panels share the time axis; each element says what it is (`class` and
//! `data-*` attributes), so the tests below read the SVG back and check what it shows.
//! The PNG is rasterized by resvg with a font compiled in (DejaVu Sans Mono,
//! lab/assets/fonts), never the machine's: the same text everywhere, or none missing.

use std::fmt;
use std::path::Path;

use lab_model::timeline::Timeline;

const WIDTH: f64 = 1000.0;
const PANEL: f64 = 170.0;
const GAP: f64 = 40.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;

/// The font every label is drawn with.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
const FONT_FAMILY: &str = "DejaVu Sans Mono";

/// One quantity over time.
struct Panel {
    /// What it shows (`data-quantity`).
    quantity: &'static str,
    title: &'static str,
    color: &'static str,
    values: Vec<(f64, f64)>,
    /// Counts change in steps; rates and lag are drawn as lines.
    step: bool,
    /// Dashed per-phase reference values: (from, to, value), the published counts.
    reference: Vec<(f64, f64, f64)>,
}

impl Panel {
    /// The top of the scale: whole multiples of 4 for counts, a round number otherwise.
    fn scale_max(&self) -> f64 {
        let max = self
            .values
            .iter()
            .map(|v| v.1)
            .chain(self.reference.iter().map(|r| r.2))
            .fold(0.0f64, f64::max)
            .max(1.0);
        if self.step {
            (max / 4.0).ceil() * 4.0
        } else {
            nice_ceiling(max)
        }
    }
}

fn panels(timeline: &Timeline) -> [Panel; 3] {
    let samples = &timeline.samples;
    let published = timeline
        .scenario
        .phases
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let value = p.published? as f64;
            Some((timeline.phase_starts[i], timeline.phase_end(i), value))
        })
        .collect();
    [
        Panel {
            quantity: "produced_per_s",
            title: "producer rate (events/s)",
            color: "#1f77b4",
            values: samples.iter().map(|s| (s.t, s.produced_per_s)).collect(),
            step: false,
            reference: vec![],
        },
        Panel {
            quantity: "total_lag",
            title: "total lag (events, as KEDA computes it)",
            color: "#d62728",
            values: samples.iter().map(|s| (s.t, s.total_lag as f64)).collect(),
            step: false,
            reference: vec![],
        },
        Panel {
            quantity: "replicas",
            title: "consumer replicas (dashed: published)",
            color: "#2ca02c",
            values: samples.iter().map(|s| (s.t, s.replicas as f64)).collect(),
            step: true,
            reference: published,
        },
    ]
}

/// Where scenario time lands on the page.
struct TimeAxis {
    end: f64,
}

impl TimeAxis {
    fn x(&self, t: f64) -> f64 {
        LEFT + PLOT_WIDTH * (t / self.end.max(1.0))
    }
}

/// The chart as SVG text.
pub fn svg(timeline: &Timeline) -> String {
    Chart(timeline).to_string()
}

/// A timeline drawn as SVG.
struct Chart<'a>(&'a Timeline);

impl fmt::Display for Chart<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        draw(out, self.0)
    }
}

fn draw(out: &mut fmt::Formatter<'_>, timeline: &Timeline) -> fmt::Result {
    let axis = TimeAxis {
        end: timeline.scenario.seconds() as f64,
    };
    let panels = panels(timeline);
    let height = TOP + panels.len() as f64 * (PANEL + GAP) + 10.0;
    writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT_FAMILY}, monospace" font-size="12">"#
    )?;
    writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    let title = format!(
        "{} — {} ({} partitions)",
        timeline.scenario.name, timeline.mode, timeline.scenario.partitions
    );
    writeln!(
        out,
        r#"<text class="title" x="{LEFT}" y="22" font-size="16" font-weight="bold">{}</text>"#,
        escape(&title)
    )?;
    for (i, panel) in panels.iter().enumerate() {
        let top = TOP + i as f64 * (PANEL + GAP);
        write_panel(out, timeline, &axis, panel, top, i == 0)?;
    }
    write_time_ticks(
        out,
        &axis,
        TOP + panels.len() as f64 * (PANEL + GAP) - GAP + 16.0,
    )?;
    writeln!(out, "</svg>")
}

fn write_panel(
    out: &mut fmt::Formatter<'_>,
    timeline: &Timeline,
    axis: &TimeAxis,
    panel: &Panel,
    top: f64,
    names: bool,
) -> fmt::Result {
    let scale_max = panel.scale_max();
    let y = |v: f64| top + PANEL - PANEL * (v / scale_max);
    writeln!(
        out,
        r#"<g class="panel" data-quantity="{}" data-top="{top}" data-scale-max="{scale_max}">"#,
        panel.quantity
    )?;
    writeln!(
        out,
        r##"<text class="panel-title" x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
        top - 6.0,
        escape(panel.title)
    )?;
    writeln!(
        out,
        r##"<rect class="frame" x="{LEFT}" y="{top}" width="{PLOT_WIDTH}" height="{PANEL}" fill="none" stroke="#999"/>"##
    )?;
    for k in 0..=4 {
        let v = scale_max * k as f64 / 4.0;
        let yy = y(v);
        writeln!(
            out,
            r##"<line class="grid" x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#eee"/>"##,
            LEFT + PLOT_WIDTH
        )?;
        writeln!(
            out,
            r##"<text class="y-tick" x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
            LEFT - 6.0,
            yy + 4.0,
            trim(v)
        )?;
    }
    write_phases(out, timeline, axis, top, names)?;
    for (from, to, v) in &panel.reference {
        let yy = y(*v);
        writeln!(
            out,
            r##"<line class="published" data-value="{v}" x1="{:.1}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#555" stroke-width="1.2" stroke-dasharray="6 4"/>"##,
            axis.x(*from),
            axis.x(*to)
        )?;
    }
    writeln!(
        out,
        r#"<path class="series" data-quantity="{}" d="{}" fill="none" stroke="{}" stroke-width="1.8"/>"#,
        panel.quantity,
        series_path(panel, axis, y),
        panel.color
    )?;
    writeln!(out, "</g>")
}

/// A dashed line where each phase starts, its name in the first panel.
fn write_phases(
    out: &mut fmt::Formatter<'_>,
    timeline: &Timeline,
    axis: &TimeAxis,
    top: f64,
    names: bool,
) -> fmt::Result {
    for (p, start) in timeline.phase_starts.iter().enumerate() {
        let xx = axis.x(*start);
        writeln!(
            out,
            r##"<line class="phase" data-t="{start}" x1="{xx:.1}" x2="{xx:.1}" y1="{top}" y2="{}" stroke="#888" stroke-dasharray="4 3"/>"##,
            top + PANEL
        )?;
        if names {
            writeln!(
                out,
                r##"<text class="phase-name" x="{:.1}" y="{}" fill="#444" font-size="11">{}</text>"##,
                xx + 4.0,
                top + 14.0,
                escape(&timeline.scenario.phases[p].name)
            )?;
        }
    }
    Ok(())
}

/// The path through every sample: straight segments, or steps for counts.
fn series_path(panel: &Panel, axis: &TimeAxis, y: impl Fn(f64) -> f64) -> String {
    let mut segments: Vec<String> = Vec::with_capacity(panel.values.len());
    let mut previous: Option<f64> = None;
    for (t, v) in &panel.values {
        let (xx, yy) = (axis.x(*t), y(*v));
        segments.push(match previous {
            None => format!("M{xx:.1},{yy:.1}"),
            Some(prev_y) if panel.step => format!("L{xx:.1},{prev_y:.1} L{xx:.1},{yy:.1}"),
            Some(_) => format!("L{xx:.1},{yy:.1}"),
        });
        previous = Some(yy);
    }
    segments.join(" ")
}

fn write_time_ticks(out: &mut fmt::Formatter<'_>, axis: &TimeAxis, y: f64) -> fmt::Result {
    let tick = nice_ceiling((axis.end / 10.0).max(1.0));
    let mut t = 0.0;
    while t <= axis.end + 0.001 {
        writeln!(
            out,
            r##"<text class="x-tick" data-t="{t}" x="{:.1}" y="{y}" text-anchor="middle" fill="#555">{}s</text>"##,
            axis.x(t),
            trim(t)
        )?;
        t += tick;
    }
    Ok(())
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

/// The SVG rasterized with the compiled-in font only.
fn png(svg: &str) -> anyhow::Result<resvg::tiny_skia::Pixmap> {
    let mut options = resvg::usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_monospace_family(FONT_FAMILY);
    fonts.set_sans_serif_family(FONT_FAMILY);
    let tree = resvg::usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow::anyhow!("empty chart"))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}

/// Writes `chart.svg` and `chart.png` into `dir`.
pub fn write(timeline: &Timeline, dir: &Path) -> anyhow::Result<()> {
    let svg = svg(timeline);
    std::fs::write(dir.join("chart.svg"), &svg)?;
    png(&svg)?.save_png(dir.join("chart.png"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lab_model::scenario::Scenario;
    use lab_model::timeline::Sample;

    /// The published scenario (phases at 0, 120, 270 and 510 s; 750 s), one sample every
    /// 10 s with replicas 3 from 300 s on.
    fn timeline() -> Timeline {
        let mut timeline = Timeline::new(Scenario::published().unwrap(), "test");
        for t in (0..750).step_by(10) {
            let t = t as f64;
            timeline.samples.push(Sample {
                t,
                phase: timeline.phase_at(t),
                phase_name: "".into(),
                period_ms: 100,
                produced_per_s: 10.0,
                total_lag: (t as i64) / 10,
                metric: 0,
                active: true,
                hpa_desired: 1,
                replicas: if t >= 300.0 { 3 } else { 1 },
                running: 1,
                scaler_error: None,
            });
        }
        timeline
    }

    fn number(node: roxmltree::Node, attribute: &str) -> f64 {
        node.attribute(attribute).unwrap().parse().unwrap()
    }

    #[test]
    fn one_panel_and_one_series_per_quantity_with_its_axis() {
        let text = svg(&timeline());
        let doc = roxmltree::Document::parse(&text).unwrap();
        let panels: Vec<roxmltree::Node> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("panel"))
            .collect();
        let quantities: Vec<&str> = panels
            .iter()
            .map(|p| p.attribute("data-quantity").unwrap())
            .collect();
        assert_eq!(quantities, ["produced_per_s", "total_lag", "replicas"]);
        for panel in &panels {
            let series: Vec<_> = panel
                .children()
                .filter(|n| n.attribute("class") == Some("series"))
                .collect();
            assert_eq!(
                series.len(),
                1,
                "one series in {:?}",
                panel.attribute("data-quantity")
            );
            let ticks: Vec<&str> = panel
                .children()
                .filter(|n| n.attribute("class") == Some("y-tick"))
                .map(|n| n.text().unwrap())
                .collect();
            assert_eq!(ticks.len(), 5);
            assert_eq!(ticks[0], "0");
        }
        // Replicas reach 3 (scale 4: ticks 0 1 2 3 4); lag reaches 74 (scale 100).
        assert_eq!(number(panels[2], "data-scale-max"), 4.0);
        assert_eq!(number(panels[1], "data-scale-max"), 100.0);
        let x_ticks: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("x-tick"))
            .map(|n| n.text().unwrap())
            .collect();
        assert_eq!(
            x_ticks,
            ["0s", "100s", "200s", "300s", "400s", "500s", "600s", "700s"],
            "a round step over 750 s"
        );
    }

    #[test]
    fn phases_are_marked_where_they_start_and_published_counts_span_their_phase() {
        let timeline = timeline();
        let text = svg(&timeline);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let axis = TimeAxis { end: 750.0 };
        let phase_lines: Vec<(f64, f64)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("phase"))
            .map(|n| (number(n, "data-t"), number(n, "x1")))
            .collect();
        assert_eq!(phase_lines.len(), 4 * 3, "each phase start in each panel");
        for (t, x) in &phase_lines {
            assert!((x - axis.x(*t)).abs() < 0.1, "t={t}: x={x}");
        }
        let starts: Vec<f64> = phase_lines.iter().take(4).map(|p| p.0).collect();
        assert_eq!(starts, [0.0, 120.0, 270.0, 510.0]);
        let names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("phase-name"))
            .map(|n| n.text().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "period 1000 ms",
                "producer deleted",
                "period 100 ms",
                "period 10 s"
            ]
        );
        let published: Vec<(f64, f64, f64)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("published"))
            .map(|n| (number(n, "data-value"), number(n, "x1"), number(n, "x2")))
            .collect();
        assert_eq!(published.len(), 4);
        assert_eq!(published[2].0, 3.0, "period 100 ms: 3");
        assert!(
            (published[2].1 - axis.x(270.0)).abs() < 0.1
                && (published[2].2 - axis.x(510.0)).abs() < 0.1
        );
    }

    #[test]
    fn the_series_passes_through_every_sample() {
        let timeline = timeline();
        let text = svg(&timeline);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let replicas = doc
            .descendants()
            .find(|n| {
                n.attribute("class") == Some("panel")
                    && n.attribute("data-quantity") == Some("replicas")
            })
            .unwrap();
        let top = number(replicas, "data-top");
        let path = replicas
            .children()
            .find(|n| n.attribute("class") == Some("series"))
            .unwrap()
            .attribute("d")
            .unwrap();
        let points: Vec<(f64, f64)> = path
            .split(['M', 'L'])
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let (x, y) = p.trim().split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        // Steps: the first sample, then two points for each further sample.
        assert_eq!(points.len(), 1 + 2 * (timeline.samples.len() - 1));
        let axis = TimeAxis { end: 750.0 };
        let at_300 = points
            .iter()
            .rev()
            .find(|(x, _)| (x - axis.x(300.0)).abs() < 0.1)
            .unwrap();
        let expected = top + PANEL - PANEL * 3.0 / 4.0;
        assert!(
            (at_300.1 - expected).abs() < 0.1,
            "3 replicas at t=300: {at_300:?}"
        );
    }

    /// The labels are drawn with the compiled-in font: text pixels appear where the title
    /// is, on a machine with no fonts at all (the renderer is given no other).
    #[test]
    fn the_png_draws_its_labels_with_the_font_compiled_in() {
        let text = svg(&timeline());
        let pixmap = png(&text).unwrap();
        let dark_in = |x0: u32, y0: u32, x1: u32, y1: u32| {
            let mut n = 0;
            for y in y0..y1 {
                for x in x0..x1 {
                    let p = pixmap.pixel(x, y).unwrap();
                    if p.red() < 128 && p.green() < 128 && p.blue() < 128 {
                        n += 1;
                    }
                }
            }
            n
        };
        assert!(dark_in(70, 6, 400, 26) > 200, "the title is drawn");
        let without_text = text
            .lines()
            .filter(|l| !l.starts_with("<text"))
            .collect::<Vec<_>>()
            .join("\n");
        let blank = png(&without_text).unwrap();
        assert_eq!(
            blank.pixel(100, 16).map(|p| p.red()),
            Some(255),
            "nothing else is drawn where the title is"
        );
    }
}
