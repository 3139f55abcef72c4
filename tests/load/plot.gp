# Grouped bars per workload, one colour per target, for tests/load/bench.sh:
#   gnuplot -e "datafile='t.dat'; output='t.png'; columns=4; ymin=100; chart_title='...';
#               ylabel='...'; logscale=1" plot.gp
# datafile: a header line (workload, then one target label per column), then one line per
# workload; '?' marks a figure that was not measured.
set terminal pngcairo size 1200,600 font "sans,10" noenhanced
set output output
set datafile separator "\t"
set datafile missing "?"
set title chart_title
set ylabel ylabel
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set xtics nomirror
set ytics nomirror
if (logscale) {
  set logscale y 10
  set yrange [ymin:*]
} else {
  set yrange [0:*]
}
plot for [i = 2:columns + 1] datafile using i:xtic(1) title columnheader(i)
