import torch
from typing import List

def sequence_length_bucket_kernel(tensor_list: List[torch.Tensor]):
  x = tensor_list[0]
  bucket_dim = 1
  x_shape = x.shape
  tensor_sequence_length = x_shape[bucket_dim]
  batch_size = x_shape[bucket_dim - 1]
  buckets = [128, 512]
  idx = 0
  num_inputs = 3
  bucket = buckets[0]
  reshaped_tensors: List[torch.Tensor] = []
  bucket_idx = 0
  for idx, bucket in enumerate(buckets):
      if tensor_sequence_length <= bucket:
          bucket_idx = idx
          for tensor in tensor_list:
              if num_inputs == 0:
                  break
              delta = bucket - tensor_sequence_length
              padding_shape: List[int] = [batch_size, delta]
              zeros = torch.zeros(padding_shape, dtype=x.dtype)
              reshaped_tensors.append(torch.cat([tensor, zeros], dim=bucket_dim))
              num_inputs -= 1
          break
  return reshaped_tensors, torch.tensor([bucket_idx])

def get_bucket_kernel(*_):
    bk = torch.jit.script(sequence_length_bucket_kernel)
    return bk
