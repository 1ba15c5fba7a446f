#!/usr/bin/env Rscript
## tonedata.R: writes data/tonedata.csv, mixtools' `tonedata` (mixtools 2.0.0, Debian
## r-cran-mixtools, GPL >= 2; mixtools copied it from Hennig's fpc): a musical tone perception
## experiment (Cohen, Inharmonic tone perception, PhD dissertation, Stanford, 1980; analysed by
## de Veaux, CSDA 8:227-245, 1989, and Viele and Tong, Statistics and Computing 12:315-330, 2002), where a trained
## musician tuned a tone to what sounded like an octave above a fundamental whose overtones were
## stretched by `stretchratio`; `tuned` is the ratio of the tuned tone to the fundamental.  Two
## regression lines hide in the one cloud: at times the musician followed the stretched overtones
## (tuned rising with stretchratio), at times the true octave (tuned near 2).  150 rows, exported
## as they are.  Run from the top of the source tree:  Rscript tests/reference/tonedata.R
suppressMessages(library(mixtools))
data("tonedata", package = "mixtools")
write.csv(tonedata[, c("stretchratio", "tuned")], "data/tonedata.csv", quote = FALSE,
          row.names = FALSE)
