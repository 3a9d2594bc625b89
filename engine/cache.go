package engine

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// resultCache keeps KPI results keyed by KPI, version, canonical parameters
// and the generations of the data read (the planner's key). A write changes
// the generation of what it touches, so stale entries are never hit again
// and age out of the LRU: the generation is the one invalidation scheme.
type resultCache struct {
	lru *lru.Cache[string, *Result]
}

func newResultCache(entries int) *resultCache {
	if entries < 0 {
		return &resultCache{}
	}
	if entries == 0 {
		entries = 512
	}
	c, _ := lru.New[string, *Result](entries) // only fails for size <= 0
	return &resultCache{lru: c}
}

func (c *resultCache) get(key string) (*Result, bool) {
	if c.lru == nil {
		return nil, false
	}
	return c.lru.Get(key)
}

func (c *resultCache) put(key string, r *Result) {
	if c.lru != nil {
		c.lru.Add(key, r)
	}
}

// scorecardCache keeps whole scorecards keyed by generation, window and
// scope: a warm one answers without a statement. Off with the results
// cache (CacheEntries < 0).
type scorecardCache struct {
	lru *lru.Cache[string, *Scorecard]
}

// scorecardEntries: a scorecard per window a dashboard shows, a few
// generations back.
const scorecardEntries = 32

func newScorecardCache(resultEntries int) *scorecardCache {
	if resultEntries < 0 {
		return &scorecardCache{}
	}
	c, _ := lru.New[string, *Scorecard](scorecardEntries)
	return &scorecardCache{lru: c}
}

func (c *scorecardCache) get(key string) (*Scorecard, bool) {
	if c.lru == nil {
		return nil, false
	}
	return c.lru.Get(key)
}

func (c *scorecardCache) put(key string, sc *Scorecard) {
	if c.lru != nil {
		c.lru.Add(key, sc)
	}
}
