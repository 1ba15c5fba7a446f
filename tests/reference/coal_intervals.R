#!/usr/bin/env Rscript
## coal_intervals.R: writes data/coal_intervals.csv, the intervals in days between the 191
## British coal-mining disasters (explosions killing ten or more men) of 1851-1962, from `coal`
## in R's boot package (1.3.28.1, Debian r-base-core's recommended packages; Jarrett, Biometrika
## 66:191-193, 1979).  boot keeps the dates as decimal years: the differences times 365.25 are
## whole days to within 1e-10, and are rounded to them.  One interval is 0 (two disasters on the
## same day): it is dropped, since the exponential and gamma families take values > 0.
## Run from the top of the source tree:  Rscript tests/reference/coal_intervals.R
library(boot)
x <- round(diff(coal$date) * 365.25)
x <- x[x > 0]
write.csv(data.frame(days = x), "data/coal_intervals.csv", quote = FALSE, row.names = FALSE)
