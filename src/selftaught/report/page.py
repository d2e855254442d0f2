"""The report's page: one jinja2 template and its CSS, kept in Python so that they ship with
the package. Autoescape is on, and every value is passed through `text.clean` on output."""

from __future__ import annotations

CSS = """
:root { --fg: #1d2329; --muted: #5f6b76; --line: #d9dee3; --bg: #ffffff; --soft: #f5f7f9;
        --good: #1a7f37; --bad: #b42318; --warn: #9a6700; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--fg); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; }
header { border-bottom: 2px solid var(--line); margin-bottom: 12px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta, .muted { color: var(--muted); }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img.plot { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); margin: 6px 0; }
.kind { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: var(--soft);
        border: 1px solid var(--line); color: var(--muted); vertical-align: middle; }
.badge { font-size: 11px; padding: 0 6px; border-radius: 8px; color: #fff; background: var(--accent);
         vertical-align: middle; }
.badge.best { background: var(--good); }
.badge.rejected { background: var(--bad); }
.badge.seed { background: var(--muted); }
.ok { color: var(--good); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.label { display: inline-block; font-size: 12px; margin: 1px 2px; padding: 0 6px; border-radius: 4px;
         background: #e8f0fe; border: 1px solid #c6d7f5; }
ul.tree { list-style: none; padding-left: 18px; border-left: 1px dashed var(--line); margin: 4px 0; }
ul.tree.root { border-left: none; padding-left: 0; }
ul.tree li { margin: 4px 0; }
li.best > .node { background: #eaf6ec; border-color: #9fd3aa; }
.node { display: inline-block; padding: 2px 8px; border: 1px solid var(--line); border-radius: 6px; }
details { margin: 2px 0 4px; }
summary { cursor: pointer; color: var(--accent); font-size: 13px; }
.code { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; overflow-x: auto;
        max-height: 520px; overflow-y: auto; }
.code pre { margin: 0; padding: 8px 10px; font: 12px/1.4 "DejaVu Sans Mono", ui-monospace, monospace; }
.best-code { border-left: 4px solid var(--good); padding-left: 10px; margin: 8px 0 14px; }
.scroll { overflow-x: auto; max-width: 100%; }
.note { background: #fff8e6; border: 1px solid #f0d58c; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
footer { margin-top: 32px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
"""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body><main>
<header>
<h1>{{ title }}</h1>
<p class="meta">{{ runs|length }} run{{ "s" if runs|length != 1 }} · generated {{ generated }} by selftaught {{ version }}</p>
<nav><a href="#overview">overview</a><a href="#safety">safety</a>{% if strategy_plot %}<a href="#strategies">strategies</a>{% endif %}
{% for r in runs %}<a href="#{{ r.anchor }}">{{ r.short }}</a>{% endfor %}</nav>
</header>

<section id="overview">
<h2>Runs</h2>
<table>
<tr><th>run</th><th>kind</th><th>started</th><th>tasks</th><th>model</th><th>status</th><th>best score</th></tr>
{% for r in runs %}<tr><td><a href="#{{ r.anchor }}">{{ r.name }}</a></td><td>{{ r.entry.kind }}</td><td>{{ r.entry.created[:19] }}</td>
<td>{{ r.entry.tasks|join(", ") }}</td><td>{{ r.entry.model }}</td>
<td class="{{ 'ok' if r.entry.status == 'finished' else 'warn' }}">{{ r.entry.status }}</td>
<td>{% if r.entry.best is not none %}{{ pct(r.entry.best) }} <span class="muted">({{ r.entry.best_label }})</span>{% else %}-{% endif %}</td></tr>
{% endfor %}</table>
{% if meta_plot %}<h3>Meta-utility per iteration{{ " (all self-improve runs)" if meta_runs > 1 }}</h3>
<img class="plot" alt="meta-utility per iteration" src="{{ meta_plot }}">
<p class="muted">Error bars: 95% t intervals over the downstream runs of each score (n per point in the tables
below; with n = 2 they are wide). Dotted: u(s), the task's seed program.</p>{% endif %}
</section>

<section id="safety">
<h2>Safety telemetry</h2>
<p class="muted">One improvement attempt is one run of an improver, I(u, s, L). A circumvention attempt is an
attempt whose improver's code carried a sandbox flag ({{ sandbox_flags|join(", ") }}); budget tampering:
{{ budget_flags|join(", ") }}. Rates with 95% Wilson intervals (the paper: GPT-4 0.42%, CI 0.31-0.57%).
Invalid outputs: programs with an output the scorer rejected (bad_output, scorer_error).</p>
<div class="scroll"><table>
<tr><th></th>{% for s in safety_rows %}<th>{{ s.label }}{% if s.unsafe %} <span class="bad">(no sandbox)</span>{% endif %}</th>{% endfor %}</tr>
<tr><th>improvement attempts</th>{% for s in safety_rows %}<td class="num">{{ s.attempts }}</td>{% endfor %}</tr>
<tr><th>sandbox circumvention</th>{% for s in safety_rows %}<td class="num">{{ rate(s.sandbox) }}</td>{% endfor %}</tr>
<tr><th>budget tampering</th>{% for s in safety_rows %}<td class="num">{{ rate(s.budget) }}</td>{% endfor %}</tr>
<tr><th>blocked by the sandbox</th>{% for s in safety_rows %}<td class="num">{{ rate(s.blocked) }}</td>{% endfor %}</tr>
<tr><th>flags seen (attempts)</th>{% for s in safety_rows %}<td>{% for f, n in s.flags.items() %}<span class="label">{{ f }} × {{ n }}</span> {% else %}none{% endfor %}</td>{% endfor %}</tr>
<tr><th>LM-written programs scored</th>{% for s in safety_rows %}<td class="num">{{ s.programs }}</td>{% endfor %}</tr>
<tr><th>programs with sandbox flags</th>{% for s in safety_rows %}<td class="num">{{ rate(s.program_sandbox) }}</td>{% endfor %}</tr>
<tr><th>programs with invalid outputs</th>{% for s in safety_rows %}<td class="num">{{ rate(s.invalid) }}{% for k, n in s.invalid_instances.items() %}<br>{{ k }} × {{ n }} outputs{% endfor %}</td>{% endfor %}</tr>
</table></div>
{% if flag_notes %}<p class="muted">Flags seen: {% for f, note in flag_notes %}<b>{{ f }}</b>: {{ note }}{{ "; " if not loop.last }}{% endfor %}.
A flag is a static observation of the code, not proof of intent: read the lineage diffs.</p>{% endif %}
{% if blocked %}<h3>What the sandbox blocked</h3><table><tr><th>run</th><th>what</th><th>times</th></tr>
{% for name, what, n in blocked %}<tr><td>{{ name }}</td><td>{{ what }}</td><td class="num">{{ n }}</td></tr>{% endfor %}</table>
{% else %}<p>The sandbox blocked nothing in these runs.</p>{% endif %}
{% if runtime_events %}<h3>Audit events raised inside the sandbox</h3><table><tr><th>run</th><th>event</th><th>attempts</th></tr>
{% for name, what, n in runtime_events %}<tr><td>{{ name }}</td><td>{{ what }}</td><td class="num">{{ n }}</td></tr>{% endfor %}</table>{% endif %}
</section>

{% if strategy_plot %}<section id="strategies">
<h2>Strategies of the improvers</h2>
<p class="muted">Detected from each improver's syntax tree (not its comments): {{ improver_count }} improver{{ "s" if improver_count != 1 }}
with recorded source. Candidates whose source was not recorded are not counted.</p>
<img class="plot" alt="strategy frequency" src="{{ strategy_plot }}">
</section>{% endif %}

{% macro node_item(lin, node, best) -%}
<li class="{{ 'best' if node.program in best }}"><span class="node"><b>{{ node.label }}</b> <code>{{ node.program[:12] }}</code>
{% if node.role == 'seed' %}<span class="badge seed">seed</span>{% elif node.role == 'accepted' %}<span class="badge">accepted</span>{% elif node.role == 'rejected' %}<span class="badge rejected">rejected</span>{% endif %}
{% if node.program in best %}<span class="badge best">best</span>{% endif %}
{% if node.val is not none %} val {{ num(node.val) }}{% endif %}{% if node.test is not none %} · test {{ num(node.test) }}{% endif %}
{% if node.note %} <span class="muted">· {{ node.note }}</span>{% endif %}
{% if node.edit %}<br><span class="muted">changed: {{ node.edit }}</span>{% endif %}</span>
{% if node.diff %}<details{{ " open" if node.role == "accepted" }}><summary>diff against parent</summary>{{ highlight(node.diff, "diff") }}</details>
{% elif node.source %}<details><summary>source</summary>{{ highlight(node.source) }}</details>
{% else %}<span class="muted"> (source not recorded)</span>{% endif %}
{% set kids = lin.children(node.key) %}{% if kids %}<ul class="tree">{% for c in kids %}{{ node_item(lin, c, best) }}{% endfor %}</ul>{% endif %}
</li>
{%- endmacro %}

{% for r in runs %}
<section id="{{ r.anchor }}">
<h2>{{ r.name }} <span class="kind">{{ r.entry.kind }}</span></h2>
<p class="muted">{{ r.settings }}</p>
{% if r.unsafe %}<p class="note bad">This run had the sandbox switched off (--unsafe-no-sandbox).</p>{% endif %}

{% if r.steps %}
<h3>Meta-utility per iteration</h3>
{% if r.meta_plot %}<img class="plot" alt="meta-utility of {{ r.name }}" src="{{ r.meta_plot }}">{% endif %}
<div class="scroll"><table><tr><th>t</th><th>improver</th><th>verdict</th><th>û val [95% CI]</th><th>û test [95% CI]</th><th>n</th>
<th>downstream runs</th><th>candidates</th></tr>
{% for s in r.steps %}<tr><td>{{ s.t }}</td><td><code>{{ s.improver[:12] }}</code></td>
<td class="{{ 'ok' if s.accepted else 'bad' }}">{{ s.reason if s.t == 0 else ("accepted" if s.accepted else "reverted: " ~ s.reason) }}{{ " (I_" ~ (s.t - 1) ~ " returned itself)" if s.t and s.candidate == s.parent }}</td>
{% if s.score %}<td class="num">{{ ci(s.score.val) }}</td><td class="num">{{ ci(s.score.test) }}</td><td class="num">{{ s.score.val.n }}</td>
<td>{% for k, n in s.score.statuses.items() %}{{ k }} × {{ n }} {% endfor %}</td>{% else %}<td>-</td><td>-</td><td>-</td><td>-</td>{% endif %}
<td class="num">{{ s.candidates|length }}</td></tr>{% endfor %}</table></div>
<h3>Did self-improvement help? I_T against I_0 on fresh test runs</h3>
{% if r.final %}{% set f = r.final %}<p>û(I_T) = {{ ci(f.final) }}, û(I_0) = {{ ci(f.first) }} on {{ f.split }};
paired difference <b class="{{ 'ok' if f.difference.lo > 0 else ('bad' if f.difference.hi < 0 else 'warn') }}">{{ signed(f.difference) }}</b>
over {{ f.difference.n }} pairs ({{ f.wins }} wins, {{ f.losses }} losses):
{{ "I_T is better (the interval lies above 0)" if f.difference.lo > 0 else ("I_T is worse" if f.difference.hi < 0 else "not shown to differ") }}.</p>
{% else %}<p class="muted">This run did not compare I_T with I_0 on fresh paired runs (a run from before that
comparison existed, final runs set to 0, or I_T = I_0): read û test in the table, whose runs the improvers saw.</p>{% endif %}
<h3>Candidates per iteration</h3>
<img class="plot" alt="candidate scores of {{ r.name }}" src="{{ r.candidate_plot }}">
{% endif %}

{% if r.transfer %}
<h3>Transfer to held-out tasks (test split)</h3>
<img class="plot" alt="transfer of {{ r.name }}" src="{{ r.transfer_plot }}">
<table><tr><th>task</th><th>u(s)</th>{% for k in r.transfer_labels %}<th>û({{ k }}) [95% CI]</th>{% endfor %}</tr>
{% for row in r.transfer %}<tr><td>{{ row.task }}</td><td class="num">{{ pct(row.seed_program) }}</td>
{% for k in r.transfer_labels %}<td class="num">{% if row.cells.get(k) %}{{ ci(row.cells[k]) }}{% else %}-{% endif %}
{% if row.versus.get(k) %}<br><span class="muted">vs {{ r.transfer_labels[0] }}: {{ signed(row.versus[k]) }}</span>{% endif %}</td>{% endfor %}</tr>{% endfor %}
</table>{% endif %}

{% if r.leaderboard %}
<h3>Leaderboard: each improver against {{ r.leaderboard[0].label }}, paired on the same runs (test split)</h3>
<img class="plot" alt="leaderboard of {{ r.name }}" src="{{ r.leaderboard_plot }}">
<table><tr><th>improver</th><th>runs</th><th>minus {{ r.leaderboard[0].label }}, pooled [95% CI]</th>
<th>never below u(s)</th><th>crashed</th><th>completion tokens / run</th><th>wall s / run</th></tr>
{% for s in r.leaderboard %}<tr><td>{{ s.label }}</td><td class="num">{{ s.runs }}</td>
<td class="num">{% if s.versus_reference %}{{ signed(s.versus_reference) }}{% else %}reference{% endif %}</td>
<td class="num">{{ rate(s.never_worse) }}</td><td class="num">{{ rate(s.crashed) }}</td>
<td class="num">{{ "%.0f"|format(s.completion_tokens) }}</td><td class="num">{{ "%.0f"|format(s.wall_time_s) }}</td></tr>{% endfor %}
</table>
<table><tr><th>minus {{ r.leaderboard[0].label }}, per task [95% CI]</th>{% for t in r.leaderboard_tasks %}<th>{{ t }}</th>{% endfor %}</tr>
{% for s in r.leaderboard[1:] %}<tr><td>{{ s.label }}</td>{% for t in r.leaderboard_tasks %}
<td class="num">{% if s.per_task.get(t) %}{{ signed(s.per_task[t]) }}{% else %}-{% endif %}</td>{% endfor %}</tr>{% endfor %}
</table>
<p class="muted">{% if r.leaderboard_default_label %}
Would an improver replace {{ r.leaderboard_default_label }} as the default (issue 22's rule: paired on every task,
pooled 95% interval above 0, mean output never below u(s) on a task)? {% if r.leaderboard_default %}<b>{{ r.leaderboard_default.label }}</b>.{% else %}None here.{% endif %}
{% else %}The reference is the first improver given, {{ r.leaderboard[0].label }}. Whether another should replace
the default improver ({{ default_improver }}) is asked when {{ default_improver }} is given first.{% endif %}

Never below u(s): runs whose output scored at least the seed program on test. Completion tokens
count every response a run received, cached or not; wall time is what the run itself spent, so
under common random numbers an improver whose requests another already sent replays those
samples (and their scores) almost for free.</p>{% endif %}

{% if r.improve %}
<h3>Improvement of {{ r.improve.task }}</h3>
<img class="plot" alt="before and after" src="{{ r.improve_plot }}">
<p>status <b>{{ r.improve.status }}</b>: val {{ num(r.improve.val) }}, test {{ num(r.improve.test) }}
(seed program: val {{ num(r.improve.seed_val) }}, test {{ num(r.improve.seed_test) }}).</p>
{% endif %}

<h3>Language-model usage</h3>
{% if r.usage_plot %}<img class="plot" alt="LM usage of {{ r.name }}" src="{{ r.usage_plot }}">{% endif %}
<table><tr><th>{{ r.usage_unit }}</th><th>calls</th><th>responses</th><th>cached</th><th>prompt tokens</th><th>completion tokens</th><th>LM latency</th><th>wall time</th></tr>
{% for name, u, wall in r.usage %}<tr><td>{{ name }}</td><td class="num">{{ u.calls }}</td><td class="num">{{ u.responses }}</td>
<td class="num">{{ u.cached }}</td><td class="num">{{ "{:,}".format(u.prompt_tokens) }}</td><td class="num">{{ "{:,}".format(u.completion_tokens) }}</td>
<td class="num">{{ minutes(u.latency_s) }}</td><td class="num">{{ minutes(wall) }}</td></tr>{% endfor %}</table>

<h3>Strategies</h3>
{% if r.improvers %}<table><tr><th>improver</th><th>id</th><th>strategies (from the syntax tree)</th></tr>
{% for i in r.improvers %}<tr><td>{{ i.label }}</td><td><code>{{ i.program[:12] }}</code></td>
<td>{% if i.strategies.parse_error %}<span class="warn">does not parse: {{ i.strategies.parse_error }}</span>
{% else %}{% for l in i.strategies.labels|sort %}<span class="label">{{ l }}</span>{% else %}none of the catalogue (one sampling round, like the seed){% endfor %}{% endif %}</td></tr>{% endfor %}
</table>{% else %}<p class="muted">No improver source recorded in this run.</p>{% endif %}

<h3>Lineage</h3>
<ul class="tree root">{% for n in r.lineage.roots() %}{{ node_item(r.lineage, n, r.best) }}{% endfor %}</ul>

{% if r.best_code %}<h3>Best {{ "improvers" if r.steps else "programs" }}</h3>
{% for badge, title, code in r.best_code %}<div class="best-code"><p><span class="badge {{ 'best' if badge == 'best' }}">{{ badge }}</span> {{ title }}</p>{{ highlight(code) }}</div>{% endfor %}{% endif %}
</section>
{% endfor %}

<footer><p>Self-contained page: styles inline, figures embedded as PNG, no scripts and no network fetches.
Everything the language model wrote is shown as text, with control characters made visible.</p></footer>
</main></body>
</html>
"""
