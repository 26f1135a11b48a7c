#include "core/traffic/wordpiece_tokenizer.h"

#include "core/traffic/unicode_tables.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include <algorithm>

namespace bucketlab {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes UTF-8 the way Python's errors="replace" does for our purpose: any invalid or
// truncated sequence becomes U+FFFD, which BERT's _clean_text then removes.
void decodeUtf8(std::string_view s, std::vector<char32_t>& out)
{
    out.clear();
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* e = p + s.size();
    while (p < e) {
        const unsigned char b = *p;
        if (b < 0x80) {
            out.push_back(b);
            ++p;
            continue;
        }
        int extra = 0;
        char32_t cp = 0, min = 0;
        if ((b & 0xE0) == 0xC0)
            extra = 1, cp = b & 0x1F, min = 0x80;
        else if ((b & 0xF0) == 0xE0)
            extra = 2, cp = b & 0x0F, min = 0x800;
        else if ((b & 0xF8) == 0xF0)
            extra = 3, cp = b & 0x07, min = 0x10000;
        else {
            out.push_back(kReplacement);
            ++p;
            continue;
        }
        int i = 1;
        for (; i <= extra && p + i < e && (p[i] & 0xC0) == 0x80; ++i)
            cp = (cp << 6) | (p[i] & 0x3F);
        if (i <= extra || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            out.push_back(kReplacement);
            p += i;
            continue;
        }
        out.push_back(cp);
        p += i;
    }
}

void appendUtf8(char32_t c, std::string& out)
{
    if (c < 0x80)
        out += char(c);
    else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

size_t utf8Chars(std::string_view s)
{
    size_t n = 0;
    for (char c : s)
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

// BERT's _is_whitespace.
bool isBertWhitespace(char32_t c)
{
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return true;
    return c >= 0x80 && unicode::categoryClass(c) == unicode::CategoryClass::SpaceSeparator;
}

// BERT's _is_control: tab and newlines count as whitespace, not control.
bool isBertControl(char32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r')
        return false;
    if (c < 0x80)
        return c < 0x20 || c == 0x7F;
    return unicode::categoryClass(c) == unicode::CategoryClass::Control;
}

// BERT's _is_punctuation: all non-letter/number ASCII symbols count ("^", "$", "`" are not
// category P but are split like punctuation), plus every Unicode P* character.
bool isBertPunctuation(char32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return true;
    return c >= 0x80 && unicode::categoryClass(c) == unicode::CategoryClass::Punctuation;
}

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks, which are written without
// spaces and so are split into one token per character.
bool isCjk(char32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Python's str.split() also splits on the line and paragraph separators, which survive
// _clean_text (category Zl/Zp is neither control nor Zs).
bool splitsWords(char32_t c)
{
    return c == ' ' || c == 0x2028 || c == 0x2029;
}

// Python's str.lower() of a whole word, including the Final_Sigma rule: a capital sigma
// preceded by a cased letter and not followed by one becomes the final form.
void lowercaseWord(const char32_t* w, size_t n, std::vector<char32_t>& out)
{
    out.clear();
    char32_t buf[3];
    for (size_t i = 0; i < n; ++i) {
        if (w[i] == 0x03A3) {
            size_t j = i;
            while (j > 0 && unicode::caseContext(w[j - 1]) == unicode::CaseContext::CaseIgnorable)
                --j;
            bool final = j > 0 && unicode::caseContext(w[j - 1]) == unicode::CaseContext::Cased;
            if (final) {
                size_t k = i + 1;
                while (k < n && unicode::caseContext(w[k]) == unicode::CaseContext::CaseIgnorable)
                    ++k;
                final = k == n || unicode::caseContext(w[k]) != unicode::CaseContext::Cased;
            }
            out.push_back(final ? 0x03C2 : 0x03C3);
            continue;
        }
        if (w[i] < 0x80) {
            out.push_back(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
            continue;
        }
        const size_t m = unicode::lowercase(w[i], buf);
        out.insert(out.end(), buf, buf + m);
    }
}

void stripAccentsWord(std::vector<char32_t>& word, std::vector<char32_t>& scratch)
{
    scratch.clear();
    char32_t buf[3];
    for (char32_t c : word) {
        if (c < 0x80) {
            scratch.push_back(c);
            continue;
        }
        const size_t m = unicode::stripAccents(c, buf);
        scratch.insert(scratch.end(), buf, buf + m);
    }
    word.swap(scratch);
}

} // namespace

WordPieceTokenizer WordPieceTokenizer::fromFile(const std::string& path, const Options& options)
{
    return fromText(readFile(path, kMaxDataFileBytes, "a vocabulary"), path, options);
}

WordPieceTokenizer WordPieceTokenizer::fromText(std::string vocabText, const std::string& name,
                                                const Options& options)
{
    if (options.maxCharsPerWord < 1)
        throw Error(name + ": the longest word must be at least 1 character");
    WordPieceTokenizer t;
    t.options_ = options;
    t.storage_ = std::move(vocabText);
    const std::string_view all(t.storage_);
    bool hasUnk = false;
    size_t pos = 0;
    while (pos < all.size()) {
        size_t end = all.find('\n', pos);
        if (end == std::string_view::npos)
            end = all.size();
        std::string_view token = all.substr(pos, end - pos);
        pos = end + 1;
        if (!token.empty() && token.back() == '\r')
            token.remove_suffix(1);
        ++t.vocabSize_;
        if (token.empty())
            continue;
        hasUnk = hasUnk || token == "[UNK]";
        if (token.size() > 2 && token.substr(0, 2) == "##") {
            token.remove_prefix(2);
            t.continuations_.insert(token);
            t.maxContinuationChars_ = std::max(t.maxContinuationChars_, utf8Chars(token));
        } else {
            t.words_.insert(token);
            t.maxWordChars_ = std::max(t.maxWordChars_, utf8Chars(token));
        }
    }
    if (!hasUnk)
        throw Error(name + ": no [UNK] token; expected a WordPiece vocab.txt (one token a line)");
    return t;
}

template <typename Sink>
void WordPieceTokenizer::wordPieces(const char32_t* chars, size_t n, Sink&& sink) const
{
    if (int64_t(n) > options_.maxCharsPerWord) {
        sink(std::string_view("[UNK]"), false);
        return;
    }
    // UTF-8 of the word with the byte offset of each character, so every candidate piece
    // is a substring we can look up without allocating.
    thread_local std::string bytes;
    thread_local std::vector<size_t> offsets;
    bytes.clear();
    offsets.clear();
    for (size_t i = 0; i < n; ++i) {
        offsets.push_back(bytes.size());
        appendUtf8(chars[i], bytes);
    }
    offsets.push_back(bytes.size());
    // Greedy longest-match-first; the whole word is one [UNK] if any position has no match.
    thread_local std::vector<std::string_view> pieces;
    pieces.clear();
    size_t start = 0;
    while (start < n) {
        const auto& set = start == 0 ? words_ : continuations_;
        const size_t longest = start == 0 ? maxWordChars_ : maxContinuationChars_;
        size_t end = std::min(n, start + longest);
        bool found = false;
        for (; end > start; --end) {
            const std::string_view piece(bytes.data() + offsets[start],
                                         offsets[end] - offsets[start]);
            if (set.count(piece)) {
                pieces.push_back(piece);
                found = true;
                break;
            }
        }
        if (!found) {
            sink(std::string_view("[UNK]"), false);
            return;
        }
        start = end;
    }
    for (size_t i = 0; i < pieces.size(); ++i)
        sink(pieces[i], i > 0);
}

template <typename Sink> void WordPieceTokenizer::run(std::string_view text, Sink&& sink) const
{
    thread_local std::vector<char32_t> decoded, cleaned, word, scratch;
    decodeUtf8(text, decoded);
    // _clean_text and _tokenize_chinese_chars.
    cleaned.clear();
    for (char32_t c : decoded) {
        if (c == 0 || c == kReplacement || isBertControl(c))
            continue;
        if (isBertWhitespace(c))
            cleaned.push_back(' ');
        else if (c >= 0x3400 && isCjk(c)) {
            cleaned.push_back(' ');
            cleaned.push_back(c);
            cleaned.push_back(' ');
        } else
            cleaned.push_back(c);
    }
    size_t i = 0;
    const size_t n = cleaned.size();
    while (i < n) {
        while (i < n && splitsWords(cleaned[i]))
            ++i;
        const size_t begin = i;
        while (i < n && !splitsWords(cleaned[i]))
            ++i;
        if (i == begin)
            break;
        if (options_.lowercase) {
            lowercaseWord(cleaned.data() + begin, i - begin, word);
            stripAccentsWord(word, scratch);
        } else
            word.assign(cleaned.begin() + std::ptrdiff_t(begin),
                        cleaned.begin() + std::ptrdiff_t(i));
        // _run_split_on_punc: every punctuation character is a word of its own.
        size_t runStart = 0;
        for (size_t k = 0; k <= word.size(); ++k) {
            const bool atEnd = k == word.size();
            if (atEnd || isBertPunctuation(word[k])) {
                if (k > runStart)
                    wordPieces(word.data() + runStart, k - runStart, sink);
                if (!atEnd)
                    wordPieces(word.data() + k, 1, sink);
                runStart = k + 1;
            }
        }
    }
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const
{
    std::vector<std::string> out;
    run(text, [&](std::string_view piece, bool continuation) {
        out.push_back(continuation ? "##" + std::string(piece) : std::string(piece));
    });
    return out;
}

int64_t WordPieceTokenizer::countTokens(std::string_view text) const
{
    int64_t n = 0;
    run(text, [&](std::string_view, bool) { ++n; });
    return n;
}

} // namespace bucketlab
