#include "core/archive/pickle_reader.h"

#include "core/util/error.h"

#include <cstring>
#include <unordered_map>

namespace bucketlab {
namespace {

PickleRef make(PickleValue::Kind kind)
{
    auto v = std::make_shared<PickleValue>();
    v->kind = kind;
    return v;
}

class PickleDecoder {
public:
    PickleDecoder(const std::string& bytes, std::string where)
        : data_(bytes), where_(std::move(where))
    {
    }

    PickleRef run()
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
                return stack_.back();
            case '(': // MARK
                push(make(PickleValue::Kind::Mark));
                break;
            case 'N':
                push(make(PickleValue::Kind::None));
                break;
            case 0x88: // NEWTRUE
            case 0x89: // NEWFALSE
            {
                auto v = make(PickleValue::Kind::Bool);
                v->boolValue = op == 0x88;
                push(v);
                break;
            }
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
                auto v = make(PickleValue::Kind::Float);
                std::memcpy(&v->floatValue, &u, 8);
                push(v);
                break;
            }
            case 'X': // BINUNICODE
            case 'B': // BINBYTES
            case 'T': // BINSTRING
                pushString(size_t(readLE(4)));
                break;
            case 0x8c: // SHORT_BINUNICODE
            case 'C':  // SHORT_BINBYTES
            case 'U':  // SHORT_BINSTRING
                pushString(size_t(uint8_t(next(1)[0])));
                break;
            case 0x8d: // BINUNICODE8
            case 0x8e: // BINBYTES8
                pushString(size_t(readLE(8)));
                break;
            case ']':
                push(make(PickleValue::Kind::List));
                break;
            case '}':
                push(make(PickleValue::Kind::Dict));
                break;
            case ')':
                push(make(PickleValue::Kind::Tuple));
                break;
            case 'l': // LIST
            case 't': // TUPLE
            {
                auto v = make(op == 'l' ? PickleValue::Kind::List : PickleValue::Kind::Tuple);
                v->items = popToMark();
                push(v);
                break;
            }
            case 'd': // DICT
            {
                auto v = make(PickleValue::Kind::Dict);
                setItems(*v, popToMark());
                push(v);
                break;
            }
            case 0x85: // TUPLE1
            case 0x86: // TUPLE2
            case 0x87: // TUPLE3
            {
                const size_t n = size_t(op - 0x84);
                auto v = make(PickleValue::Kind::Tuple);
                need(n);
                v->items.assign(stack_.end() - long(n), stack_.end());
                stack_.resize(stack_.size() - n);
                push(v);
                break;
            }
            case 'a': // APPEND
            {
                auto item = pop();
                auto list = top();
                checkKind(*list, PickleValue::Kind::List, "APPEND");
                list->items.push_back(item);
                break;
            }
            case 'e': // APPENDS
            {
                auto items = popToMark();
                auto list = top();
                checkKind(*list, PickleValue::Kind::List, "APPENDS");
                list->items.insert(list->items.end(), items.begin(), items.end());
                break;
            }
            case 's': // SETITEM
            {
                auto value = pop();
                auto key = pop();
                auto dict = top();
                checkKind(*dict, PickleValue::Kind::Dict, "SETITEM");
                dict->dict.emplace_back(key, value);
                break;
            }
            case 'u': // SETITEMS
            {
                auto items = popToMark();
                auto dict = top();
                checkKind(*dict, PickleValue::Kind::Dict, "SETITEMS");
                setItems(*dict, items);
                break;
            }
            case 'c': // GLOBAL "module\nname\n"
            {
                auto v = make(PickleValue::Kind::Global);
                const std::string module = readLine(); // operands of + are unsequenced
                v->text = module + " " + readLine();
                push(v);
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                auto name = pop();
                auto module = pop();
                auto v = make(PickleValue::Kind::Global);
                v->text = module->text + " " + name->text;
                push(v);
                break;
            }
            case 'R': // REDUCE
            {
                auto args = pop();
                auto v = make(PickleValue::Kind::Call);
                v->callee = pop();
                v->items = args->items;
                push(v);
                break;
            }
            case 0x81: // NEWOBJ
            {
                auto args = pop();
                auto v = make(PickleValue::Kind::Object);
                v->callee = pop();
                v->items = args->items;
                push(v);
                break;
            }
            case 'b': // BUILD
            {
                auto state = pop();
                top()->state = state;
                break;
            }
            case 'Q': // BINPERSID
            {
                auto v = make(PickleValue::Kind::PersistentId);
                v->id = pop();
                push(v);
                break;
            }
            case 'q': // BINPUT
                memo_[readLE(1)] = top();
                break;
            case 'r': // LONG_BINPUT
                memo_[readLE(4)] = top();
                break;
            case 0x94: // MEMOIZE
                memo_[memo_.size()] = top();
                break;
            case 'h': // BINGET
                push(memoGet(readLE(1)));
                break;
            case 'j': // LONG_BINGET
                push(memoGet(readLE(4)));
                break;
            case '0': // POP
                pop();
                break;
            case '1': // POP_MARK
                popToMark();
                break;
            case '2': // DUP
                push(top());
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

private:
    [[noreturn]] void fail(const std::string& what) const { throw Error(where_ + ": " + what); }

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
    void push(PickleRef v) { stack_.push_back(std::move(v)); }
    void pushInt(int64_t value)
    {
        auto v = make(PickleValue::Kind::Int);
        v->intValue = value;
        push(v);
    }
    void pushString(size_t n)
    {
        auto v = make(PickleValue::Kind::String);
        v->text.assign(next(n), n);
        push(v);
    }
    void need(size_t n) const
    {
        if (stack_.size() < n)
            fail("the pickle pops more values than it pushed (at byte " + std::to_string(pos_) +
                 ")");
    }
    PickleRef pop()
    {
        need(1);
        auto v = stack_.back();
        stack_.pop_back();
        if (v->kind == PickleValue::Kind::Mark)
            fail("the pickle pops a MARK as a value (at byte " + std::to_string(pos_) + ")");
        return v;
    }
    PickleRef top() const
    {
        need(1);
        return stack_.back();
    }
    std::vector<PickleRef> popToMark()
    {
        for (size_t i = stack_.size(); i-- > 0;)
            if (stack_[i]->kind == PickleValue::Kind::Mark) {
                std::vector<PickleRef> items(stack_.begin() + long(i) + 1, stack_.end());
                stack_.resize(i);
                return items;
            }
        fail("the pickle has no MARK where one is needed (at byte " + std::to_string(pos_) + ")");
    }
    PickleRef memoGet(uint64_t key) const
    {
        auto it = memo_.find(key);
        if (it == memo_.end())
            fail("the pickle refers to memo entry " + std::to_string(key) + " it never stored");
        return it->second;
    }
    void checkKind(const PickleValue& v, PickleValue::Kind kind, const char* op) const
    {
        if (v.kind != kind)
            fail(std::string(op) + " applied to a value of the wrong kind (at byte " +
                 std::to_string(pos_) + ")");
    }
    void setItems(PickleValue& dict, const std::vector<PickleRef>& items) const
    {
        if (items.size() % 2 != 0)
            fail("a dictionary with an odd number of keys and values");
        for (size_t i = 0; i < items.size(); i += 2)
            dict.dict.emplace_back(items[i], items[i + 1]);
    }

    const std::string& data_;
    std::string where_;
    size_t pos_ = 0;
    std::vector<PickleRef> stack_;
    std::unordered_map<uint64_t, PickleRef> memo_;
};

} // namespace

PickleRef PickleValue::get(const std::string& key) const
{
    if (kind != Kind::Dict)
        return nullptr;
    for (const auto& [k, v] : dict)
        if (k->kind == Kind::String && k->text == key)
            return v;
    return nullptr;
}

PickleRef readPickle(const std::string& bytes, const std::string& where)
{
    return PickleDecoder(bytes, where).run();
}

std::string pickleClassName(const PickleValue& value)
{
    if (value.kind == PickleValue::Kind::Global)
        return value.text;
    if ((value.kind == PickleValue::Kind::Call || value.kind == PickleValue::Kind::Object) &&
        value.callee)
        return pickleClassName(*value.callee);
    return {};
}

} // namespace bucketlab
