"""The seed platform's numbers (Lanzhou's 民情地图·小兰善治), which the demo city reproduces exactly."""

REGIONS = {"city": 1, "county": 9, "township": 114, "village": 1180}
GRIDS = {"large": 110, "medium": 1086, "small": 7507}
GRID_MEMBERS = {"leader": 1198, "full_time": 7480, "part_time": 8548, "dedicated": 739}
RURAL_FULL_TIME = 3823           # full-time workers of rural small grids ...
RURAL_GROUP_LEADERS = 3745       # ... of whom village group leaders (97.4 %)
DEFAULT_RESIDENTS = 200_000
DEFAULT_SEED = 2260
