// BERT's tokenizer, to count the tokens a BERT-style model sees for a text or a sentence
// pair: BasicTokenizer (clean text, split on whitespace, CJK characters and punctuation,
// optionally lower-case and strip accents) then greedy longest-match-first WordPiece, with
// the semantics of google-research/bert tokenization.py and Hugging Face's BertTokenizer.
// Counting is the point (traffic lengths); tokenize() exists so tests can see the pieces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace bucketlab {

class WordPieceTokenizer {
public:
    struct Options {
        // Uncased models: str.lower() then NFD without nonspacing marks, as BERT does when
        // do_lower_case is set (accents are stripped only then, like Hugging Face's default).
        bool lowercase = false;
        // Longer words become one [UNK] without trying pieces (BERT's max_input_chars_per_word).
        int64_t maxCharsPerWord = 100;
    };

    // Reads a vocab.txt (one token per line, continuation pieces prefixed with "##").
    // Throws Error when the file cannot be read or has no [UNK] token.
    static WordPieceTokenizer fromFile(const std::string& path, const Options& options);
    static WordPieceTokenizer fromText(std::string vocabText, const std::string& name,
                                       const Options& options);

    // Word pieces of `text` (UTF-8; invalid bytes count as U+FFFD, which BERT drops).
    std::vector<std::string> tokenize(std::string_view text) const;
    int64_t countTokens(std::string_view text) const;
    // Model input lengths: [CLS] text [SEP], and [CLS] a [SEP] b [SEP].
    int64_t singleLength(std::string_view text) const { return countTokens(text) + 2; }
    int64_t pairLength(std::string_view a, std::string_view b) const
    {
        return countTokens(a) + countTokens(b) + 3;
    }
    size_t vocabSize() const { return vocabSize_; }
    const Options& options() const { return options_; }

private:
    template <typename Sink> void run(std::string_view text, Sink&& sink) const;
    template <typename Sink> void wordPieces(const char32_t* chars, size_t n, Sink&& sink) const;

    Options options_;
    std::string storage_;                                // the vocab text; the sets view into it
    std::unordered_set<std::string_view> words_;         // tokens that start a word
    std::unordered_set<std::string_view> continuations_; // "##x" tokens, stored as "x"
    size_t maxWordChars_ = 0, maxContinuationChars_ = 0;
    size_t vocabSize_ = 0;
};

} // namespace bucketlab
