# NxD-style bucket kernels with constant arguments, written for BucketLab's tests from what
# NxD Inference documents and does (not copied from it): a model's BucketModelConfig passes
# bucket_kernel_constant_args=(torch.tensor(buckets), padding_side, pad_token) and the
# runtime calls bucket_kernel(inputs, *bucket_kernel_constant_args).
import torch
from typing import List


@torch.jit.script
def context_encoder_bk(tensors: List[torch.Tensor], buckets: torch.Tensor,
                       padding_side: str, pad_token: int):
    # NxD's context-encoding contract: the inputs arrive padded to the largest bucket; the
    # real tokens of a row are those that are not the pad token, and the longest row picks
    # the smallest bucket that holds them all. 2-D inputs are sliced to that bucket (the
    # first positions with right padding, the last with left); 1-D inputs such as seq_ids
    # have no length and pass through. The index is returned as int32, as NxD does.
    input_ids = tensors[0]
    real_tokens = torch.max(torch.sum((input_ids != pad_token).to(torch.int64), dim=1))
    bucket_idx = torch.argmin((buckets < real_tokens).to(torch.int32))
    bucket = int(buckets[bucket_idx])
    largest = input_ids.shape[1]
    sliced: List[torch.Tensor] = []
    for tensor in tensors:
        if tensor.dim() == 1:
            sliced.append(tensor)
        elif padding_side == "left":
            sliced.append(torch.ops.aten.slice(tensor, 1, largest - bucket, largest, 1))
        else:
            sliced.append(torch.ops.aten.slice(tensor, 1, 0, bucket, 1))
    return sliced, bucket_idx.to(torch.int32)


@torch.jit.script
def pad_to_bucket_bk(tensors: List[torch.Tensor], buckets: torch.Tensor,
                     padding_side: str, pad_token: int):
    # The guide's contract with NxD's constant arguments: inputs arrive at their length and
    # are padded up to the smallest bucket that holds them. Without the length check,
    # constant_pad_nd would pad a longer input by a negative amount, i.e. cut it.
    length = tensors[0].shape[1]
    largest = int(buckets[-1])
    if length > largest:
        raise ValueError("input length " + str(length) + " exceeds the largest bucket " +
                         str(largest))
    bucket_idx = torch.argmin((buckets < length).to(torch.int32))
    bucket = int(buckets[bucket_idx])
    padded: List[torch.Tensor] = []
    for tensor in tensors:
        if tensor.dim() == 1:
            padded.append(tensor)
        elif padding_side == "left":
            padded.append(torch.constant_pad_nd(tensor, [bucket - length, 0], pad_token))
        else:
            padded.append(torch.constant_pad_nd(tensor, [0, bucket - length], pad_token))
    return padded, bucket_idx.to(torch.int64)


def get_context_encoder_bk():
    return context_encoder_bk
