#include "core/archive/pickle_reader.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace bucketlab {

using Kind = PickleValue::Kind;

Pickle::Pickle() = default;
Pickle::Pickle(Pickle&&) noexcept = default;
Pickle& Pickle::operator=(Pickle&&) noexcept = default;
Pickle::~Pickle() = default;

PickleValue* Pickle::make(Kind kind)
{
    if (used_ == chunkSize_) {
        // Chunks grow from 16 values to kChunk: small pickles (constants.pkl) stay small.
        chunkSize_ = chunks_.empty() ? 16 : std::min(kChunk, 2 * chunkSize_);
        chunks_.push_back(std::make_unique<PickleValue[]>(chunkSize_));
        used_ = 0;
    }
    PickleValue* v = &chunks_.back()[used_++];
    v->kind = kind;
    ++count_;
    return v;
}

class PickleDecoder {
public:
    PickleDecoder(const std::string& bytes, std::string where, const PickleLimits& limits)
        : data_(bytes), where_(std::move(where)), limits_(limits)
    {
    }

    Pickle run()
    {
        if (data_.size() > limits_.maxBytes)
            fail("the pickle holds " + std::to_string(data_.size()) +
                 " bytes, more than the limit of " + std::to_string(limits_.maxBytes));
        decode();
        measureDepth();
        return std::move(out_);
    }

private:
    void decode()
    {
        while (true) {
            const auto op = static_cast<unsigned char>(next(1)[0]);
            switch (op) {
            case 0x80: // PROTO
                next(1);
                break;
            case 0x95: // FRAME (protocol 4): the frame length is only a read hint
                next(8);
                break;
            case '.': // STOP
                if (stack_.size() != 1)
                    fail("the pickle ends with " + std::to_string(stack_.size()) +
                         " values on its stack");
                out_.root_ = pop();
                return;
            case '(': // MARK
                push(make(Kind::Mark));
                break;
            case 'N': push(make(Kind::None)); break;
            case 0x88: // NEWTRUE
            case 0x89: // NEWFALSE
                make(Kind::Bool)->boolValue = op == 0x88;
                push(last_);
                break;
            case 'K': // BININT1
                pushInt(uint8_t(next(1)[0]));
                break;
            case 'M': // BININT2
                pushInt(int64_t(readLE(2)));
                break;
            case 'J': // BININT
                pushInt(int64_t(int32_t(uint32_t(readLE(4)))));
                break;
            case 0x8a: // LONG1
            {
                const auto n = size_t(uint8_t(next(1)[0]));
                if (n > 8)
                    fail("an integer of " + std::to_string(n) + " bytes does not fit 64 bits");
                const char* p = next(n);
                uint64_t u = 0;
                for (size_t i = 0; i < n; ++i)
                    u |= uint64_t(uint8_t(p[i])) << (8 * i);
                if (n > 0 && n < 8 && (uint8_t(p[n - 1]) & 0x80))
                    u |= ~uint64_t(0) << (8 * n); // sign-extend
                pushInt(int64_t(u));
                break;
            }
            case 'G': // BINFLOAT, big-endian
            {
                const char* p = next(8);
                uint64_t u = 0;
                for (int i = 0; i < 8; ++i)
                    u = (u << 8) | uint8_t(p[i]);
                std::memcpy(&make(Kind::Float)->floatValue, &u, 8);
                push(last_);
                break;
            }
            case 'X': // BINUNICODE
                pushString(size_t(readLE(4)), false);
                break;
            case 0x8c: // SHORT_BINUNICODE
                pushString(size_t(uint8_t(next(1)[0])), false);
                break;
            case 0x8d: // BINUNICODE8
                pushString(size_t(readLE(8)), false);
                break;
            case 'B': // BINBYTES
            case 'T': // BINSTRING (Python 2 str: bytes)
                pushString(size_t(readLE(4)), true);
                break;
            case 'C': // SHORT_BINBYTES
            case 'U': // SHORT_BINSTRING
                pushString(size_t(uint8_t(next(1)[0])), true);
                break;
            case 0x8e: // BINBYTES8
                pushString(size_t(readLE(8)), true);
                break;
            case ']': push(make(Kind::List)); break;
            case '}': push(make(Kind::Dict)); break;
            case ')': push(make(Kind::Tuple)); break;
            case 'l': // LIST
            case 't': // TUPLE
            {
                auto items = popToMark();
                PickleValue* v = make(op == 'l' ? Kind::List : Kind::Tuple);
                v->items.assign(items.begin(), items.end());
                push(v);
                break;
            }
            case 'd': // DICT
            {
                auto items = popToMark();
                PickleValue* v = make(Kind::Dict);
                setItems(*v, items);
                push(v);
                break;
            }
            case 0x85: // TUPLE1
            case 0x86: // TUPLE2
            case 0x87: // TUPLE3
            {
                const size_t n = size_t(op - 0x84);
                need(n);
                for (size_t i = stack_.size() - n; i < stack_.size(); ++i)
                    if (stack_[i]->kind == Kind::Mark)
                        fail("the pickle puts a MARK into a tuple (at byte " +
                             std::to_string(pos_) + ")");
                PickleValue* v = make(Kind::Tuple);
                v->items.assign(stack_.end() - long(n), stack_.end());
                stack_.resize(stack_.size() - n);
                push(v);
                break;
            }
            case 'a': // APPEND
            {
                PickleValue* item = pop();
                PickleValue* list = top();
                checkKind(*list, Kind::List, "APPEND");
                list->items.push_back(item);
                break;
            }
            case 'e': // APPENDS
            {
                auto items = popToMark();
                PickleValue* list = top();
                checkKind(*list, Kind::List, "APPENDS");
                list->items.insert(list->items.end(), items.begin(), items.end());
                break;
            }
            case 's': // SETITEM
            {
                PickleValue* value = pop();
                PickleValue* key = pop();
                PickleValue* dict = top();
                checkKind(*dict, Kind::Dict, "SETITEM");
                dict->dict.emplace_back(key, value);
                break;
            }
            case 'u': // SETITEMS
            {
                auto items = popToMark();
                PickleValue* dict = top();
                checkKind(*dict, Kind::Dict, "SETITEMS");
                setItems(*dict, items);
                break;
            }
            case 'c': // GLOBAL "module\nname\n"
            {
                const std::string module = readLine(); // operands of + are unsequenced
                const std::string name = readLine();
                make(Kind::Global)->text = utf8Escaped(module + " " + name);
                push(last_);
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                PickleValue* name = pop();
                PickleValue* module = pop();
                if (module->kind != Kind::String || name->kind != Kind::String)
                    fail("STACK_GLOBAL needs a module and a name as strings (at byte " +
                         std::to_string(pos_) + ")");
                make(Kind::Global)->text = utf8Escaped(module->text + " " + name->text);
                push(last_);
                break;
            }
            case 'R':  // REDUCE
            case 0x81: // NEWOBJ
            {
                PickleValue* args = pop();
                PickleValue* callee = pop();
                PickleValue* v = make(op == 'R' ? Kind::Call : Kind::Object);
                v->callee = callee;
                v->items = args->items;
                push(v);
                break;
            }
            case 'b': // BUILD
            {
                PickleValue* state = pop();
                PickleValue* target = top();
                if (target->kind != Kind::Object && target->kind != Kind::Call)
                    fail("BUILD applied to a value that is not an object (at byte " +
                         std::to_string(pos_) + ")"); // found by fuzzing: a string with a state
                target->state = state;
                break;
            }
            case 'Q': // BINPERSID
            {
                PickleValue* id = pop();
                make(Kind::PersistentId)->id = id;
                push(last_);
                break;
            }
            case 'q': // BINPUT
                memoPut(readLE(1));
                break;
            case 'r': // LONG_BINPUT
                memoPut(readLE(4));
                break;
            case 0x94: // MEMOIZE
                memoPut(memo_.size());
                break;
            case 'h': // BINGET
                pushReference(memoGet(readLE(1)));
                break;
            case 'j': // LONG_BINGET
                pushReference(memoGet(readLE(4)));
                break;
            case '0': // POP
                pop();
                break;
            case '1': // POP_MARK
                popToMark();
                break;
            case '2': // DUP
                pushReference(top());
                break;
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                fail(std::string("unsupported pickle opcode ") + hex + " at byte " +
                     std::to_string(pos_ - 1) + " (not written by torch.jit.save)");
            }
            }
        }
    }

    // Sets `depth` on every value reachable from the root, walking with an explicit stack,
    // and refuses trees nested deeper than the limit or values that contain themselves.
    void measureDepth()
    {
        constexpr int kUnseen = -1, kOpen = -2;
        out_.forEach([](PickleValue& v) { v.depth = kUnseen; });
        struct Frame {
            PickleValue* value;
            size_t next; // the next child to visit
        };
        std::vector<Frame> path{{out_.root_, 0}};
        out_.root_->depth = kOpen;
        while (!path.empty()) {
            Frame& f = path.back();
            PickleValue* child = childOf(*f.value, f.next++);
            if (child) {
                if (child->depth == kOpen)
                    fail("the pickle's values contain themselves (a cycle, which "
                         "torch.jit.save never writes)");
                if (child->depth == kUnseen) {
                    child->depth = kOpen;
                    path.push_back({child, 0});
                }
                continue;
            }
            PickleValue& v = *f.value;
            const bool container = v.kind == Kind::List || v.kind == Kind::Tuple ||
                                   v.kind == Kind::Dict || v.kind == Kind::Call ||
                                   v.kind == Kind::Object || v.kind == Kind::PersistentId;
            int below = 0;
            for (size_t i = 0; PickleValue* c = childOf(v, i); ++i)
                below = std::max(below, c->depth);
            v.depth = container ? below + 1 : below;
            if (v.depth > limits_.maxDepth)
                fail("values nest more than " + std::to_string(limits_.maxDepth) +
                     " containers deep (the reader's limit; torch.jit.save nests a few)");
            path.pop_back();
        }
        out_.forEach([](PickleValue& v) {
            if (v.depth < 0)
                v.depth = 0; // not reachable from the root
        });
    }

    // Children in order: items, dict keys and values, callee, state, id; null past the end.
    static PickleValue* childOf(const PickleValue& v, size_t i)
    {
        auto mutableRef = [](PickleRef r) {
            return const_cast<PickleValue*>(r);
        };
        if (i < v.items.size())
            return mutableRef(v.items[i]);
        i -= v.items.size();
        if (i < 2 * v.dict.size())
            return mutableRef(i % 2 == 0 ? v.dict[i / 2].first : v.dict[i / 2].second);
        i -= 2 * v.dict.size();
        for (PickleRef r : {v.callee, v.state, v.id})
            if (r && i-- == 0)
                return mutableRef(r);
        return nullptr;
    }

    [[noreturn]] void fail(const std::string& what) const { throw Error(where_ + ": " + what); }

    PickleValue* make(Kind kind)
    {
        charge();
        last_ = out_.make(kind);
        return last_;
    }
    // Counts a value, memo entry or reference against the limit.
    void charge()
    {
        if (++charged_ > limits_.maxValues)
            fail("the pickle makes more than " + std::to_string(limits_.maxValues) +
                 " values (the reader's limit)");
    }

    const char* next(size_t n)
    {
        if (data_.size() - pos_ < n)
            fail("the pickle is truncated at byte " + std::to_string(pos_));
        const char* p = data_.data() + pos_;
        pos_ += n;
        return p;
    }
    uint64_t readLE(size_t n)
    {
        const char* p = next(n);
        uint64_t u = 0;
        for (size_t i = 0; i < n; ++i)
            u |= uint64_t(uint8_t(p[i])) << (8 * i);
        return u;
    }
    std::string readLine()
    {
        const auto end = data_.find('\n', pos_);
        if (end == std::string::npos)
            fail("the pickle is truncated inside a GLOBAL name");
        std::string line = data_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return line;
    }
    void push(PickleValue* v) { stack_.push_back(v); }
    void pushReference(PickleValue* v)
    {
        charge();
        push(v);
    }
    void pushInt(int64_t value)
    {
        make(Kind::Int)->intValue = value;
        push(last_);
    }
    void pushString(size_t n, bool bytes)
    {
        const char* p = next(n);
        PickleValue* v = make(Kind::String);
        v->bytes = bytes;
        v->text = bytes ? std::string(p, n) : utf8Escaped(std::string_view(p, n));
        push(v);
    }
    void need(size_t n) const
    {
        if (stack_.size() < n)
            fail("the pickle pops more values than it pushed (at byte " + std::to_string(pos_) +
                 ")");
    }
    PickleValue* pop()
    {
        PickleValue* v = top();
        stack_.pop_back();
        return v;
    }
    PickleValue* top() const
    {
        need(1);
        if (stack_.back()->kind == Kind::Mark)
            fail("the pickle uses a MARK as a value (at byte " + std::to_string(pos_) + ")");
        return stack_.back();
    }
    std::vector<PickleValue*> popToMark()
    {
        for (size_t i = stack_.size(); i-- > 0;)
            if (stack_[i]->kind == Kind::Mark) {
                std::vector<PickleValue*> items(stack_.begin() + long(i) + 1, stack_.end());
                stack_.resize(i);
                return items;
            }
        fail("the pickle has no MARK where one is needed (at byte " + std::to_string(pos_) + ")");
    }
    void memoPut(uint64_t key)
    {
        charge();
        memo_[key] = top();
    }
    PickleValue* memoGet(uint64_t key) const
    {
        auto it = memo_.find(key);
        if (it == memo_.end())
            fail("the pickle refers to memo entry " + std::to_string(key) + " it never stored");
        return it->second;
    }
    void checkKind(const PickleValue& v, Kind kind, const char* op) const
    {
        if (v.kind != kind)
            fail(std::string(op) + " applied to a value of the wrong kind (at byte " +
                 std::to_string(pos_) + ")");
    }
    void setItems(PickleValue& dict, const std::vector<PickleValue*>& items) const
    {
        if (items.size() % 2 != 0)
            fail("a dictionary with an odd number of keys and values");
        for (size_t i = 0; i < items.size(); i += 2)
            dict.dict.emplace_back(items[i], items[i + 1]);
    }

    const std::string& data_;
    std::string where_;
    const PickleLimits& limits_;
    size_t pos_ = 0;
    size_t charged_ = 0;
    Pickle out_;
    PickleValue* last_ = nullptr; // the value make() returned last
    std::vector<PickleValue*> stack_;
    std::unordered_map<uint64_t, PickleValue*> memo_;
};

PickleRef PickleValue::get(const std::string& key) const
{
    if (kind != Kind::Dict)
        return nullptr;
    for (const auto& [k, v] : dict)
        if (k->kind == Kind::String && k->text == key)
            return v;
    return nullptr;
}

Pickle readPickle(const std::string& bytes, const std::string& where, const PickleLimits& limits)
{
    return PickleDecoder(bytes, where, limits).run();
}

std::string pickleClassName(const PickleValue& value)
{
    // A callee may itself be a call; follow the chain (bounded: the tree has no cycles).
    const PickleValue* v = &value;
    while ((v->kind == Kind::Call || v->kind == Kind::Object) && v->callee)
        v = v->callee;
    return v->kind == Kind::Global ? v->text : std::string();
}

} // namespace bucketlab
