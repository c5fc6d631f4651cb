"""The report: a static HTML site (``sequent report``) and the same pages served live.

Flow::

    claims registry + claims status + verdicts + attempts + reviews
        ──► collect.collect() ──► ReportData (pure data, models.py)
        ──► site.Site(data).render(path) ──► bytes of one page / asset / plot
              ├── site.write_site(data, out_dir)   (static files)
              └── web.report_router(...)           (live, under ``sequent serve``)

Pure logic lives in ``node_status.py`` (derived node status), ``graph.py`` (layered layout and
inline SVG), ``text.py`` (Markdown and Lean highlighting) and ``plots.py`` (PNG charts).
"""
