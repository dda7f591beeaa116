package main

import (
	"context"
	"os"
	"strings"
)

// Count the words of a short text and print the top three; ties are broken by the word.
func Example() {
	text := "The cat and the hat.\n\nA cat, a hat — THE END"
	err := run(context.Background(), os.Stdout, strings.NewReader(text), "", "flow", 3, DefaultConfig)
	if err != nil {
		panic(err)
	}
	// Output:
	// 11 words, 6 distinct, in standard input (counted by flow)
	//        3 the
	//        2 a
	//        2 cat
}
