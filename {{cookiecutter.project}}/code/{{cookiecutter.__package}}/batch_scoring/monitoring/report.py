"""The monitoring report: one self-contained HTML file with inline plots, logged to MLflow."""

from __future__ import annotations

import base64
import html
import io

from ..settings import Settings
from .statistics import plain_shares
from .step import FEATURE, PREDICTED, PROBABILITY, Comparison, MonitorResult


def render_report(result: MonitorResult, settings: Settings) -> str:
    """One HTML file with the plots inline (base64 PNG), readable offline and as an MLflow artifact."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    def plot(comparison: Comparison) -> str:
        figure, axis = plt.subplots(figsize=(6, 2.6), dpi=80)
        reference_shares = plain_shares(comparison.reference)
        current_shares = plain_shares(comparison.current)
        positions = range(len(comparison.labels))
        axis.bar([p - 0.2 for p in positions], reference_shares, width=0.4, label="reference", color="#8da0cb")
        axis.bar(
            [p + 0.2 for p in positions], current_shares, width=0.4, label="window", color="#fc8d62" if comparison.breached else "#66c2a5"
        )
        axis.set_xticks(list(positions), comparison.labels, rotation=30, ha="right", fontsize=7)
        axis.set_ylabel("share")
        axis.set_title(f"{comparison.column}: {comparison.metric} {comparison.value:.3f}", fontsize=9)
        axis.legend(fontsize=7)
        # Fixed margins that fit the rotated bin labels: tight_layout would draw every figure twice.
        figure.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.36)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        return base64.b64encode(buffer.getvalue()).decode()

    # Plots for predictions, categorical features and the most drifted numeric features; the table lists all.
    ranked = sorted(result.comparisons, key=lambda c: (c.column not in (PREDICTED, PROBABILITY), c.metric != "jensen_shannon", -c.value))
    plotted = ranked[:12]
    status = "BREACHED" if result.window_breached else "no breach"
    body = [
        f"<h1>Monitoring {html.escape(str(result.window))}: {status}</h1>",
        f"<p>Model {html.escape(settings.model_name)} version {html.escape(result.model_version)}. Inputs are compared with its "
        f"training range {html.escape(str(result.reference))}, predictions with its validation holdout "
        f"{html.escape(str(result.prediction_reference))}. MLflow run {html.escape(result.run_id)}.</p>",
        f"<p><b>{html.escape(result.decision.reason)}</b></p>",
        "<table><tr><th>kind</th><th>feature</th><th>metric</th><th>value</th><th>threshold</th><th>breached</th></tr>",
    ]
    for row in sorted(result.rows, key=lambda r: (r["kind"] == FEATURE, not r["breached"], -(r["value"] or 0))):
        value = "" if row["value"] is None else f"{row['value']:.4f}"
        threshold = "" if row["threshold"] is None else f"{row['threshold']:.4g}"
        css = ' class="breach"' if row["breached"] else ""
        body.append(
            f"<tr{css}><td>{row['kind']}</td><td>{html.escape(str(row['feature']))}</td><td>{row['metric']}</td>"
            f"<td>{value}</td><td>{threshold}</td><td>{'yes' if row['breached'] else ''}</td></tr>"
        )
    body.append("</table>")
    body += [f'<img alt="{html.escape(c.column)}" src="data:image/png;base64,{plot(c)}">' for c in plotted]
    style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}.breach{background:#fdd}img{margin:4px}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Monitoring {html.escape(str(result.window))}</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"
