// Package chart draws small line charts (panels side by side, linear or
// log axes, series with markers, a legend, labels at points) as SVG or
// PNG. It is what `servent bench --plot` needs and no more: no fonts of its
// own (SVG names a generic family, PNG uses golang.org/x/image's 7×13
// bitmap face), so it adds little to the servent binary, whose pages every
// running servent maps.
//
// Chart is the model; layout.go turns it into strokes, shapes and text on
// a canvas, which svg.go and png.go write out.
//
// Imports: no servent package; the standard library and golang.org/x/image.
package chart
