"""SIPmath 3.0 libraries (ProbabilityManagement.org's open standard) in and out.

``hdr`` is the standard's counter-based random number generator, ``metalog``
the k-term metalog with its bounds, ``library`` reads a library's SIPs into
trials and loads them into a run; ``write`` (a later stage: it needs a run)
writes a model's inputs and results as a library.
"""
