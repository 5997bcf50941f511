"""Reports for planners, from the daily usage aggregates only (never from raw sessions).

``data`` reads the aggregates into one :class:`~netmon.reports.data.Report`
(every section a tidy table), ``charts`` draws its figures (matplotlib,
no display, no global pyplot state), and ``html``, ``csvzip`` and ``pdf``
write the same content in three formats; ``build`` is what the CLI calls.
"""
