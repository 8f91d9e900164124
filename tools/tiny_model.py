"""A tiny random-weight Llama with a word-level tokenizer, saved for vLLM to serve on CPU without a download:
`python tools/tiny_model.py OUT_DIR` with an interpreter that has transformers and tokenizers (vLLM's own). Head size
64: vLLM's CPU attention refuses 16 ("Unsupported CPU attention configuration")."""

import sys
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

out = Path(sys.argv[1])
words = ["<unk>", "<s>", "</s>"] + [f"w{i}" for i in range(253)] + ["hello", "world"]
tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
fast.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
fast.save_pretrained(out)
config = LlamaConfig(
    vocab_size=len(words),
    hidden_size=256,
    intermediate_size=512,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=8192,
    bos_token_id=1,
    eos_token_id=2,
    torch_dtype="bfloat16",
)
LlamaForCausalLM(config).save_pretrained(out)
