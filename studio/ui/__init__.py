"""The Gradio interface: thin handlers over the core, one module per tab."""
