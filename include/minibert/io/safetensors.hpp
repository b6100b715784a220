// Reader for the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {str: str}}, then the data.
//
// Everything read from the file is checked before use: the header length against the file
// size, each dtype, the shape's byte count (overflow-safe) against its offsets, offsets against
// the data size, and that no two tensors overlap. Errors name the file and the tensor.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "mapped_file.hpp"
#include "../separate_compilation.hpp"

// The header is parsed by SafeTensors::parse only: with separate compilation, only in its TU.
#if MINIBERT_DEFINE_READERS
#include <nlohmann/json.hpp>

#include "json.hpp"
#endif

namespace minibert {

enum class DType { f32, f16, bf16, f64, i8, u8, i16, i32, i64, boolean, unknown };

inline const char* to_string(DType d) noexcept {
    switch (d) {
        case DType::f32: return "F32";
        case DType::f16: return "F16";
        case DType::bf16: return "BF16";
        case DType::f64: return "F64";
        case DType::i8: return "I8";
        case DType::u8: return "U8";
        case DType::i16: return "I16";
        case DType::i32: return "I32";
        case DType::i64: return "I64";
        case DType::boolean: return "BOOL";
        case DType::unknown: return "unknown";
    }
    return "unknown";
}

inline std::size_t dtype_size(DType d) noexcept {
    switch (d) {
        case DType::f64: case DType::i64: return 8;
        case DType::f32: case DType::i32: return 4;
        case DType::f16: case DType::bf16: case DType::i16: return 2;
        case DType::i8: case DType::u8: case DType::boolean: return 1;
        case DType::unknown: return 0;
    }
    return 0;
}

inline DType parse_dtype(const std::string& s) noexcept {
    static const std::pair<const char*, DType> table[] = {
        {"F32", DType::f32}, {"F16", DType::f16}, {"BF16", DType::bf16}, {"F64", DType::f64},
        {"I8", DType::i8},   {"U8", DType::u8},   {"I16", DType::i16},   {"I32", DType::i32},
        {"I64", DType::i64}, {"BOOL", DType::boolean}};
    for (const auto& [name, dtype] : table)
        if (s == name) return dtype;
    return DType::unknown;
}

/// One tensor inside a safetensors file; `data` points into the mapped file.
struct TensorInfo {
    std::string name;
    DType dtype = DType::unknown;
    std::string dtype_name;  ///< as written in the file (kept for error messages)
    std::vector<std::size_t> shape;
    const std::uint8_t* data = nullptr;
    std::size_t byte_size = 0;

    std::size_t numel() const noexcept {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    std::string shape_string() const {
        std::string s = "[";
        for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
        return s + "]";
    }
};

class SafeTensors {
public:
    /// The largest header accepted; real ones are a few hundred KiB.
    static constexpr std::uint64_t max_header_bytes = 100u << 20;

    SafeTensors() = default;

    /// Maps and parses `path`. Throws Error(io) or Error(format) naming the file and tensor.
    static SafeTensors open(const std::string& path) { return parse(MappedFile::open(path)); }

    /// Parses bytes already in memory (or mapped); keeps `file` alive.
    MINIBERT_COMPILED_INLINE static SafeTensors parse(MappedFile file);

    /// The tensor called `name`, or null.
    const TensorInfo* find(const std::string& name) const {
        auto it = index_.find(name);
        return it == index_.end() ? nullptr : &tensors_[it->second];
    }
    const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
    const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
    const std::string& path() const noexcept { return file_.path(); }
    /// Hands `t`'s bytes back to the OS once they have been copied (MappedFile::release).
    void release(const TensorInfo& t) const noexcept { file_.release(t.data, t.byte_size); }

private:
    MappedFile file_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, std::size_t> index_;
    std::map<std::string, std::string> metadata_;
};

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE SafeTensors SafeTensors::parse(MappedFile file) {
    SafeTensors st;
    st.file_ = std::move(file);
    const std::string& where = st.file_.path();
    const std::uint8_t* bytes = st.file_.data();
    const std::size_t size = st.file_.size();
    if (size < 8) throw Error(ErrorKind::format, "'" + where + "' is too short for a safetensors header (" +
                                                     std::to_string(size) + " bytes)");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > size - 8)
        throw Error(ErrorKind::format, "'" + where + "': safetensors header length " + std::to_string(header_len) +
                                           " runs past the end of the file (" + std::to_string(size) + " bytes)");
    if (header_len > max_header_bytes)
        throw Error(ErrorKind::format, "'" + where + "': safetensors header length " + std::to_string(header_len) +
                                           " exceeds the " + std::to_string(max_header_bytes) + "-byte limit");
    const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
    // Through the checked-JSON layer (io/json.hpp): depth-limited, and a key repeated in one
    // object is refused (nlohmann would keep the last, even when the first is invalid).
    json::ParseOptions parse_options;
    parse_options.reject_duplicate_keys = true;
    nlohmann::json header;
    try {
        header = json::parse(std::string_view(header_begin, static_cast<std::size_t>(header_len)),
                             where + " (safetensors header)", parse_options);
    } catch (const Error& e) {
        throw Error(ErrorKind::format, "'" + where + "': safetensors header is not a JSON object (" + e.what() + ")");
    }
    if (!header.is_object()) throw Error(ErrorKind::format, "'" + where + "': safetensors header is not a JSON object");

    const std::uint8_t* data = bytes + 8 + header_len;
    const std::size_t data_size = size - 8 - static_cast<std::size_t>(header_len);
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // (begin, index) for overlap checks

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__") {
            if (!it->is_object()) throw Error(ErrorKind::format, "'" + where + "': __metadata__ is not an object");
            for (auto m = it->begin(); m != it->end(); ++m) {
                if (!m->is_string())
                    throw Error(ErrorKind::format, "'" + where + "': __metadata__ value '" + m.key() + "' is not a string");
                st.metadata_[m.key()] = m->get<std::string>();
            }
            continue;
        }
        const std::string ctx = "'" + where + "': tensor '" + name + "'";
        const auto& entry = *it;
        if (!entry.is_object()) throw Error(ErrorKind::format, ctx + " is not an object");
        auto dtype_it = entry.find("dtype");
        auto shape_it = entry.find("shape");
        auto offsets_it = entry.find("data_offsets");
        if (dtype_it == entry.end() || !dtype_it->is_string())
            throw Error(ErrorKind::format, ctx + " has no string 'dtype'");
        if (shape_it == entry.end() || !shape_it->is_array())
            throw Error(ErrorKind::format, ctx + " has no 'shape' array");
        if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
            !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
            throw Error(ErrorKind::format, ctx + " has no 'data_offsets' [begin, end] of unsigned integers");

        TensorInfo info;
        info.name = name;
        info.dtype_name = dtype_it->get<std::string>();
        info.dtype = parse_dtype(info.dtype_name);
        std::size_t numel = 1;
        bool overflow = false;
        for (const auto& d : *shape_it) {
            if (!d.is_number_unsigned()) throw Error(ErrorKind::format, ctx + " has a non-integer or negative dimension");
            const auto dim = d.get<std::uint64_t>();
            if (dim != 0 && numel > SIZE_MAX / dim) overflow = true;
            numel *= static_cast<std::size_t>(dim);
            info.shape.push_back(static_cast<std::size_t>(dim));
        }
        const auto begin = (*offsets_it)[0].get<std::uint64_t>();
        const auto end = (*offsets_it)[1].get<std::uint64_t>();
        if (begin > end || end > data_size)
            throw Error(ErrorKind::format, ctx + " has data_offsets [" + std::to_string(begin) + ", " +
                                               std::to_string(end) + ") outside the " + std::to_string(data_size) +
                                               "-byte data section");
        const std::size_t elem = dtype_size(info.dtype);
        // Unknown dtypes are kept (a file may hold buffers we never read); the loader refuses
        // them only when it needs that tensor. Their byte count cannot be checked here.
        if (elem != 0 && (overflow || numel > SIZE_MAX / elem || numel * elem != end - begin))
            throw Error(ErrorKind::format, ctx + " has shape " + info.shape_string() + " of " + info.dtype_name +
                                               " but " + std::to_string(end - begin) + " bytes of data");
        info.data = data + begin;
        info.byte_size = static_cast<std::size_t>(end - begin);
        if (info.byte_size) ranges.emplace_back(static_cast<std::size_t>(begin), st.tensors_.size());
        st.index_[name] = st.tensors_.size();
        st.tensors_.push_back(std::move(info));
    }

    std::sort(ranges.begin(), ranges.end());
    std::size_t data_end = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        const TensorInfo& t = st.tensors_[ranges[i].second];
        if (i > 0) {
            const TensorInfo& prev = st.tensors_[ranges[i - 1].second];
            if (ranges[i - 1].first + prev.byte_size > ranges[i].first)
                throw Error(ErrorKind::format, "'" + where + "': tensors '" + prev.name + "' and '" + t.name + "' overlap");
        }
        data_end = std::max(data_end, ranges[i].first + t.byte_size);
    }
    // Hugging Face's reader refuses a data section that the tensors do not end exactly
    // (MetadataIncompleteBuffer): bytes after the last tensor are a truncated header, an
    // appended payload or a corrupt length.
    if (data_end != data_size)
        throw Error(ErrorKind::format, "'" + where + "': " + std::to_string(data_size - data_end) +
                                           " trailing bytes after the last tensor's data (the data section is " +
                                           std::to_string(data_size) + " bytes, the tensors end at " +
                                           std::to_string(data_end) + ")");
    return st;
}
#endif  // MINIBERT_DEFINE_READERS

}  // namespace minibert
