"""The synergy (协同) view: CO2 and co-pollutants together, per sector and district."""
