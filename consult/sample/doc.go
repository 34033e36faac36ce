// Package sample generates realistic, deterministic Vietnamese sample data
// for demos, tests, benchmarks and `moinha init --sample`: the 34
// provinces and centrally-run cities of the 2025 reorganisation, and for
// any of them a directory of facilities (provincial hospital, regional
// health centres, commune health stations), health workers with Vietnamese
// names, and booking schedules that close on Vietnamese public holidays.
//
// The same province code, seed and size always give the same data. Nothing
// here is real: names are drawn from common Vietnamese family, middle and
// given names and plausible commune names, and phone numbers, licence
// numbers and coordinates are made up.
//
// [Load] writes generated data through the directory and booking services,
// so it passes the same validation as an administrator's input.
package sample
