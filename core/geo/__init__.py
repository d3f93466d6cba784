"""Geography: regions and their codes, grids and their tree, the grid locator, and GeoJSON as RFC 7946 says."""
