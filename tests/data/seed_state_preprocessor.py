import torch
from typing import List

def state_preprocessor(shapes_collection: List[List[List[int]]], states: List[torch.Tensor], bucket_idx_tensor: torch.Tensor)->List[torch.Tensor]:
  bucket_idx = torch.ops.aten.Int(bucket_idx_tensor)
  shapes = shapes_collection[bucket_idx]
  sliced_state_tensors = []
  
  for i in range(len(shapes)):
      expected_shape = shapes[i]
      state_tensor = states[i]
      state_tensor_shape = state_tensor.shape
      for j,npos in enumerate(expected_shape):
          state_tensor_dim_length = state_tensor_shape[j]
          state_tensor = torch.ops.aten.slice(state_tensor,dim=j,start=state_tensor_dim_length-npos,end=state_tensor_dim_length)
      sliced_state_tensors.append(state_tensor)
  
  return sliced_state_tensors

def get_state_preprocessor():
  sp = torch.jit.script(state_preprocessor)
  return sp
