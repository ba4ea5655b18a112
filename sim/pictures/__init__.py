"""Pictures: charts and maps of results, in one style; functions return Figures."""
