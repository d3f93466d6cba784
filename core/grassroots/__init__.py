"""Grassroots work (基层治理): cadres and their posts, household visits (走村不漏户、户户见干部) and their coverage, key
grids held by party secretaries (重点网格), and the 帮办实事 ledger. docs/work-end.md describes them."""
