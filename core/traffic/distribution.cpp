#include "core/traffic/distribution.h"
#include "core/util/text.h"

#include "core/traffic/synthetic_distribution.h"
#include "core/traffic/wordpiece_tokenizer.h"
#include "core/util/error.h"
#include "core/util/line_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace bucketlab {

namespace {

constexpr int64_t kProgressEveryLines = int64_t(1) << 16;

bool blank(std::string_view line)
{
    return trimBlanks(line).empty();
}

// Where a value was read: the reader's current line, or a line a block parser counted.
struct Where {
    const std::string& file;
    int64_t line;
    Where(const LineReader& r) : file(r.name()), line(r.lineNumber()) {}
    Where(const std::string& f, int64_t l) : file(f), line(l) {}
};

[[noreturn]] void fail(const Where& w, const std::string& message)
{
    throw Error(located(w.file, w.line, message));
}

// Slow path of the number readers: trimmed, unquoted, checked, explained.
double checkedNumber(std::string_view cell, const Where& r, const std::string& what)
{
    std::string_view t = trimBlanks(cell);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"')
        t = trimBlanks(t.substr(1, t.size() - 2));
    if (t.empty())
        fail(r, "missing " + what + " (empty cell)");
    const std::string text(t);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size())
        fail(r, what + " " + quote(text) + " is not a number");
    if (std::isnan(v))
        fail(r, what + " " + quote(text) + " is not a number (NaN)");
    if (std::isinf(v))
        fail(r, what + " " + quote(text) + " is not finite");
    if (v < 0)
        fail(r, what + " " + text + " is negative");
    if (v != std::floor(v))
        fail(r, what + " " + text + " is not an integer");
    return v;
}

int64_t parseLength(std::string_view cell, const Where& r, const std::string& what)
{
    // Fast path: plain digits, the common case at 10^8 rows.
    const size_t n = cell.size();
    if (n - 1 < 10) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < n; ++i) {
            const unsigned d = unsigned(cell[i]) - '0';
            if (d > 9)
                break;
            v = v * 10 + d;
        }
        if (i == n && v - 1 < uint64_t(kMaxLength))
            return int64_t(v);
    }
    const double v = checkedNumber(cell, r, what);
    if (v == 0)
        fail(r, what + " 0 is not positive; lengths count tokens and start at 1");
    if (v > double(kMaxLength))
        fail(r, what + " " + std::string(trimBlanks(cell)) +
                    " exceeds the largest supported length " + std::to_string(kMaxLength));
    return int64_t(v);
}

int64_t parseCount(std::string_view cell, const Where& r)
{
    const size_t n = cell.size();
    if (n - 1 < 18) {
        int64_t v = 0;
        size_t i = 0;
        for (; i < n; ++i) {
            const unsigned d = unsigned(cell[i]) - '0';
            if (d > 9)
                break;
            v = v * 10 + d;
        }
        if (i == n)
            return v;
    }
    const double v = checkedNumber(cell, r, "count");
    if (v >= 9.2e18)
        fail(r, "count " + std::string(trimBlanks(cell)) + " does not fit in 64 bits");
    return int64_t(v);
}

std::vector<std::string_view> splitPlain(std::string_view line, char sep)
{
    std::vector<std::string_view> cells;
    size_t pos = 0;
    for (;;) {
        const size_t end = line.find(sep, pos);
        cells.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return cells;
}

// The `col`-th cell of a data line, found without splitting the whole line: one pass over
// the bytes up to the end of that cell (lines are a few bytes long, so a library call per
// separator would cost more than the scan). A quote before the cell's end means quoting may
// hide separators: then the line is split properly.
std::string_view cellAt(std::string_view line, char sep, size_t col, std::string& scratch,
                        const Where& r, const std::string& what)
{
    const char* p = line.data();
    const char* e = p + line.size();
    const char* start = p;
    size_t c = 0;
    bool quoted = false;
    for (; p < e; ++p) {
        const char ch = *p;
        if (ch == sep) {
            if (c == col)
                break;
            ++c;
            start = p + 1;
        } else if (ch == '"') {
            quoted = true;
            break;
        }
    }
    if (quoted) {
        auto cells = splitCsvLine(line, sep);
        if (col >= cells.size())
            fail(r, "missing " + what + " (the line has " + std::to_string(cells.size()) +
                        " columns)");
        scratch = std::move(cells[col]);
        return scratch;
    }
    if (c != col)
        fail(r, "missing " + what + " (the line has " + std::to_string(c + 1) + " columns)");
    std::string_view cell(start, size_t(p - start));
    if (!cell.empty() &&
        (cell.front() == ' ' || cell.back() == ' ' || cell.front() == '\t' || cell.back() == '\t'))
        cell = trimBlanks(cell);
    return cell;
}

bool looksNumeric(const std::string& s)
{
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size();
}

void reportProgress(const LineReader& r, const DistributionOptions& o)
{
    o.job.checkCancelled();
    if (r.sizeHint() > 0)
        o.job.report(double(r.bytesConsumed()) / double(r.sizeHint()), "reading " + r.name());
}

LengthHistogram finish(const LengthHistogramBuilder& builder, const LineReader& r)
{
    LengthHistogram h = builder.build();
    if (h.empty())
        throw Error(r.name() + ": " +
                    (r.lineNumber() == 0 ? std::string("empty file")
                                         : std::string("no lengths (nothing after the header)")));
    return h;
}

// One length per line, the shape of a large traffic log: scanned byte by byte over whole
// blocks, one pass, no call per line. Anything but digits and a newline (spaces, CR,
// decimals, blank lines, errors) goes through the general line path.
void readSingleColumn(LineReader& r, const DistributionOptions& o, LengthHistogramBuilder& builder)
{
    int64_t lineNo = r.lineNumber();
    std::string scratch;
    std::string_view block;
    while (r.nextBlock(block)) {
        reportProgress(r, o);
        const char* p = block.data();
        const char* const e = p + block.size();
        while (p < e) {
            const char* const s = p;
            uint64_t v = 0;
            while (p < e && unsigned(*p) - '0' < 10u) {
                v = v * 10 + (unsigned(*p) - '0');
                ++p;
            }
            ++lineNo;
            const size_t digits = size_t(p - s);
            if (p < e && *p == '\n' && digits - 1 < 10 && v - 1 < uint64_t(kMaxLength)) {
                builder.add(int64_t(v));
                ++p;
                continue;
            }
            const void* nl = std::memchr(s, '\n', size_t(e - s));
            const char* end = nl ? static_cast<const char*>(nl) : e;
            std::string_view line(s, size_t(end - s));
            p = nl ? end + 1 : e;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (blank(line))
                continue;
            const Where where(r.name(), lineNo);
            builder.add(
                parseLength(cellAt(line, ',', 0, scratch, where, "length"), where, "length"));
        }
    }
}

LengthHistogram readCsv(LineReader& r, const DistributionOptions& o)
{
    std::string_view line = r.firstNonBlankLine();
    char sep = ',';
    if (endsWithIgnoringCase(r.name(), ".tsv") || line.find('\t') != std::string_view::npos)
        sep = '\t';
    else if (line.find(',') == std::string_view::npos && line.find(';') != std::string_view::npos)
        sep = ';';
    const std::vector<std::string> header = splitCsvLine(line, sep);
    std::optional<size_t> col;
    if (!o.column.empty()) {
        col = findName(header, o.column);
        if (!col)
            fail(r, "no column " + quote(o.column) +
                        " in the header (columns: " + joinNames(header) + ")");
    } else {
        for (const auto& name : defaultLengthColumnNames())
            if ((col = findName(header, name)))
                break;
        if (!col && header.size() == 1)
            col = 0;
        if (!col)
            fail(r, "no length column (columns: " + joinNames(header) + "); name it with " +
                        subject(Field::Column));
    }
    if (looksNumeric(header[*col]))
        fail(r, "the first line must be a header naming the length column, found the value '" +
                    header[*col] + "'; add a header line such as 'length'");
    // `length,count`: one row per distinct length.
    std::optional<size_t> countCol;
    if (asciiLower(header[*col]) == "length")
        countCol = findName(header, "count");
    const std::string what = "length";
    LengthHistogramBuilder builder;
    std::string scratch;
    if (header.size() == 1 && !countCol) {
        readSingleColumn(r, o, builder);
        return finish(builder, r);
    }
    int64_t sinceProgress = 0;
    while (r.next(line)) {
        if (++sinceProgress == kProgressEveryLines) {
            sinceProgress = 0;
            reportProgress(r, o);
        }
        if (line.empty())
            continue;
        std::string_view cell = cellAt(line, sep, *col, scratch, r, what);
        if (cell.empty() && blank(line))
            continue;
        const int64_t length = parseLength(cell, r, what);
        if (countCol) {
            std::string_view c = cellAt(line, sep, *countCol, scratch, r, "count");
            builder.add(length, parseCount(c, r));
        } else
            builder.add(length);
    }
    return finish(builder, r);
}

struct TextSource {
    std::unique_ptr<WordPieceTokenizer> tokenizer;

    int64_t single(std::string_view text) const { return tokenizer->singleLength(text); }
    int64_t pair(std::string_view a, std::string_view b) const
    {
        return tokenizer->pairLength(a, b);
    }
};

LengthHistogram readJsonl(LineReader& r, const DistributionOptions& o, const TextSource* text)
{
    using nlohmann::json;
    LengthHistogramBuilder builder;
    std::string field = o.field;
    std::string_view line;
    int64_t sinceProgress = 0;
    while (r.next(line)) {
        if (++sinceProgress == kProgressEveryLines) {
            sinceProgress = 0;
            reportProgress(r, o);
        }
        if (blank(line))
            continue;
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception& e) { // parse_error, or out_of_range (1e400)
            fail(r, "not valid JSON (" + libraryMessage(e.what()) + ")");
        }
        if (!j.is_object())
            fail(r, "expected one JSON object per line");
        if (text && !o.textColumns.empty()) {
            std::vector<std::string> texts;
            for (const auto& name : o.textColumns) {
                if (!j.contains(name) || !j[name].is_string())
                    fail(r, "no text field " + quote(name));
                texts.push_back(j[name].get<std::string>());
            }
            builder.add(texts.size() == 1 ? text->single(texts[0])
                                          : text->pair(texts[0], texts[1]));
            continue;
        }
        if (field.empty()) {
            for (const auto& name : defaultLengthColumnNames())
                if (j.contains(name)) {
                    field = name;
                    break;
                }
            if (field.empty()) {
                std::vector<std::string> keys;
                for (const auto& [k, v] : j.items())
                    keys.push_back(k);
                fail(r, "no length field (fields: " + joinNames(keys) + "); name it with " +
                            subject(Field::JsonField));
            }
        }
        if (!j.contains(field))
            fail(r, "no field " + quote(field));
        const json& v = j[field];
        if (v.is_number()) {
            const std::string s = v.dump();
            builder.add(parseLength(s, r, "length"));
        } else if (v.is_array()) {
            if (v.empty())
                fail(r, "field " + quote(field) + " is an empty array; lengths start at 1");
            builder.add(int64_t(v.size()));
        } else if (v.is_string()) {
            if (!text)
                fail(r, "field " + quote(field) + " is text; give " + subject(Field::Vocabulary) +
                            " to count its tokens");
            builder.add(text->single(v.get<std::string>()));
        } else
            fail(r, "field " + quote(field) + " is " + std::string(v.type_name()) +
                        ", expected a length, an array of token ids or a text");
    }
    return finish(builder, r);
}

LengthHistogram readTexts(LineReader& r, const DistributionOptions& o, const TextSource& text)
{
    LengthHistogramBuilder builder;
    std::string_view line;
    int64_t sinceProgress = 0;
    std::vector<size_t> cols;
    size_t needed = 0;
    if (!o.textColumns.empty()) {
        // TSV with a header: no quote handling, because corpora such as MRPC carry
        // unbalanced quotes inside sentences.
        if (!r.next(line))
            throw Error(r.name() + ": empty file");
        std::vector<std::string> header;
        for (auto cell : splitPlain(line, '\t'))
            header.emplace_back(trimBlanks(cell));
        for (const auto& c : o.textColumns) {
            const bool numeric = !c.empty() && std::all_of(c.begin(), c.end(), [](char ch) {
                return std::isdigit(static_cast<unsigned char>(ch));
            });
            if (numeric) {
                const long index = std::strtol(c.c_str(), nullptr, 10);
                if (index < 1)
                    throw Error(subject(Field::TextColumns) + ": column numbers start at 1, got " +
                                quote(c));
                cols.push_back(size_t(index - 1));
            } else if (const auto found = findName(header, c))
                cols.push_back(*found);
            else
                fail(r, "no column " + quote(c) +
                            " in the tab-separated header (columns: " + joinNames(header) + ")");
            needed = std::max(needed, cols.back() + 1);
        }
    }
    while (r.next(line)) {
        if (++sinceProgress == 4096) {
            sinceProgress = 0;
            reportProgress(r, o);
        }
        if (blank(line))
            continue;
        if (cols.empty()) {
            builder.add(text.single(line));
            continue;
        }
        const auto cells = splitPlain(line, '\t');
        if (cells.size() < needed)
            fail(r, "expected at least " + std::to_string(needed) +
                        " tab-separated columns, found " + std::to_string(cells.size()));
        builder.add(cols.size() == 1 ? text.single(cells[cols[0]])
                                     : text.pair(cells[cols[0]], cells[cols[1]]));
    }
    return finish(builder, r);
}

bool isJsonl(const std::string& name)
{
    return endsWithIgnoringCase(name, ".jsonl") || endsWithIgnoringCase(name, ".ndjson") ||
           endsWithIgnoringCase(name, ".json");
}

void checkOptions(const DistributionOptions& o)
{
    if (!o.textColumns.empty() && o.vocab.empty())
        throw Error(subject(Field::TextColumns) + " needs " + subject(Field::Vocabulary) +
                    " to tokenize the texts");
    if (o.textColumns.size() > 2)
        throw Error(subject(Field::TextColumns) +
                    " takes one column (single texts) or two (sentence pairs)");
    if (o.lowercase && o.vocab.empty())
        throw Error(subject(Field::Lowercase) + " applies to tokenizing texts; give " +
                    subject(Field::Vocabulary));
}

std::unique_ptr<TextSource> makeTextSource(const DistributionOptions& o)
{
    if (o.vocab.empty())
        return nullptr;
    WordPieceTokenizer::Options t;
    t.lowercase = o.lowercase;
    auto source = std::make_unique<TextSource>();
    source->tokenizer =
        std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::fromFile(o.vocab, t));
    return source;
}

LengthHistogram readWith(LineReader& r, const DistributionOptions& o, const TextSource* text)
{
    if (isJsonl(r.name()))
        return readJsonl(r, o, text);
    if (text)
        return readTexts(r, o, *text);
    return readCsv(r, o);
}

} // namespace

const std::vector<std::string>& defaultLengthColumnNames()
{
    static const std::vector<std::string> names{
        "length",   "len",         "seq_len", "seq_length",   "sequence_length", "num_tokens",
        "n_tokens", "token_count", "tokens",  "input_length", "input_len",       "prompt_tokens"};
    return names;
}

LengthHistogram readDistributionFile(const std::string& path, const DistributionOptions& options)
{
    return readDistributionFiles({path}, options);
}

LengthHistogram readDistributionFiles(const std::vector<std::string>& paths,
                                      const DistributionOptions& options)
{
    checkOptions(options);
    if (paths.empty())
        throw Error("no distribution files given");
    const auto text = makeTextSource(options);
    LengthHistogram all;
    for (const auto& path : paths) {
        LineReader r = LineReader::openFile(path);
        all.merge(readWith(r, options, text.get()));
    }
    return all;
}

LengthHistogram loadDistribution(const std::string& fileOrSpec, const DistributionOptions& options)
{
    std::error_code ec;
    if (!std::filesystem::exists(fileOrSpec, ec) && looksLikeSyntheticSpec(fileOrSpec))
        return syntheticDistribution(fileOrSpec);
    return readDistributionFile(fileOrSpec, options);
}

LengthHistogram parseDistributionCsv(std::string_view text, const std::string& name,
                                     const DistributionOptions& options)
{
    checkOptions(options);
    LineReader r = LineReader::fromMemory(text, name);
    return readCsv(r, options);
}

LengthHistogram parseDistributionJsonl(std::string_view text, const std::string& name,
                                       const DistributionOptions& options)
{
    checkOptions(options);
    const auto source = makeTextSource(options);
    LineReader r = LineReader::fromMemory(text, name);
    return readJsonl(r, options, source.get());
}

} // namespace bucketlab
